/// The radix-2 packed real FFT of `PowerSpectrum` (KMTalkEngine/Audio) for several frames
/// at once, one per lane. In this module, which is compiled optimised in every build, so
/// a debug build of the engine (and the tests under valgrind) does not crawl through
/// unspecialised SIMD code.
public enum FFTLanes {
    /// Two to four frames (rows of `size` at `x`) through `PowerSpectrum.packedRealFFT`'s steps at once,
    /// one frame per lane of `SIMD4<Double>`: every lane does exactly the scalar path's
    /// operations in the same order, so the spectra are bit-identical to it, at about half
    /// the instructions (fewer with wider vectors).
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
