/// The radix-2 packed real FFT of `PowerSpectrum` (KMTalkEngine/Audio), one to four
/// frames at once, one per lane (offline and streaming run the same code). In this module, which is compiled optimised in every build, so
/// a debug build of the engine (and the tests under valgrind) does not crawl through
/// unspecialised SIMD code.
public enum FFTLanes {
    /// One to four frames (rows of `size` at `x`): z[j] = x[2j] + i x[2j+1] -> Z = FFT_half(z)
    /// (bit-reversed order, iterative radix-2) -> X[k] = E[k] + W_n^k O[k], |X_k|^2 into
    /// rows of `half + 1` at `power`; one frame per lane of `SIMD4<Double>`. Every lane
    /// does the same operations in the same order, so a frame's spectrum does not depend
    /// on its neighbours; four frames cost about half the instructions of four alone.
    public static func packedRealFFT4(
        _ x: UnsafePointer<Double>, frames: Int, size n: Int, half: Int, order: UnsafePointer<Int32>,
        wr: UnsafePointer<Double>, wi: UnsafePointer<Double>, sr: UnsafePointer<Double>, si: UnsafePointer<Double>,
        re: UnsafeMutablePointer<SIMD4<Double>>, im: UnsafeMutablePointer<SIMD4<Double>>,
        power: UnsafeMutablePointer<Double>
    ) {
        let bins = half + 1
        if frames == 4 {
            for j in 0..<half {
                let a = 2 * Int(order[j])
                re[j] = SIMD4(x[a], x[n + a], x[2 * n + a], x[3 * n + a])
                im[j] = SIMD4(x[a + 1], x[n + a + 1], x[2 * n + a + 1], x[3 * n + a + 1])
            }
        } else {
            for j in 0..<half {
                let a = 2 * Int(order[j])
                var r = SIMD4<Double>.zero, i = SIMD4<Double>.zero
                for f in 0..<frames {
                    r[f] = x[f * n + a]
                    i[f] = x[f * n + a + 1]
                }
                re[j] = r
                im[j] = i
            }
        }
        var length = 2
        while length <= half {
            let span = length / 2, stride = half / length
            var start = 0
            while start < half {
                for j in 0..<span {
                    let c = wr[j * stride], s = wi[j * stride]
                    let a = start + j, b = a + span
                    let vr = re[b] * c - im[b] * s, vi = re[b] * s + im[b] * c
                    re[b] = re[a] - vr
                    im[b] = im[a] - vi
                    re[a] += vr
                    im[a] += vi
                }
                start += length
            }
            length *= 2
        }
        for k in 0...half {
            let p = k == half ? 0 : k, q = k == 0 ? 0 : half - k
            let zr = re[p], zi = im[p], cr = re[q], ci = -im[q]
            let er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci)
            let dr = 0.5 * (zr - cr), di = 0.5 * (zi - ci)
            let orr = di, oi = -dr
            let xr = er + sr[k] * orr - si[k] * oi
            let xi = ei + sr[k] * oi + si[k] * orr
            let value = xr * xr + xi * xi
            for f in 0..<frames { power[f * bins + k] = value[f] }
        }
    }

}
