import COpenBLAS
import Glibc

/// Power spectrum `|X_k|^2, k = 0...n/2` of real frames of `n` samples, in double precision.
///
/// Why double: the log-mel front-end takes the log of band energies that can be 1e6 times
/// below the frame's loudest band (spectral leakage between loud harmonics). A float32 DFT
/// has absolute errors of about eps * sqrt(n) * |x|, which is a large relative error in such
/// bands and, after the log, up to ~4e-4 away from the PyTorch reference (float64). In
/// double the engine matches it to ~1e-6.
///
/// When `n / 2` is a power of two (the usual 256, 512, 1024...) the spectrum comes from a
/// real FFT: the even/odd samples packed into one complex FFT of n/2 points (iterative
/// radix-2), then split, O(n log n). Other sizes use a DFT by one dgemm per block of frames
/// against a precomputed cosine/sine basis, O(n^2) but BLAS-fast.
struct PowerSpectrum: Sendable {
    /// Frame length n.
    let size: Int
    /// Number of output bins, n/2 + 1.
    let binCount: Int
    private let method: Method

    private enum Method: Sendable {
        /// Packed real FFT: `half` = n/2 complex points, bit-reversal order, twiddles
        /// exp(-2 pi i j / half) for j < half/2, and the split twiddles exp(-2 pi i k / n).
        case fft(half: Int, reversed: [Int32], twiddleRe: [Double], twiddleIm: [Double],
                 splitRe: [Double], splitIm: [Double])
        /// [n, 2 * bins]: cos (first half) and -sin (second half) of the DFT.
        case dft(basis: [Double])
    }

    /// Frames transformed per dgemm in the DFT fallback.
    static let blockFrames = 256

    init(size n: Int) {
        precondition(n >= 2, "PowerSpectrum needs at least two samples")
        size = n
        binCount = n / 2 + 1
        let half = n / 2
        if n % 2 == 0, half & (half - 1) == 0 {
            var bits = 0
            while (1 << bits) < half { bits += 1 }
            let reversed = (0..<half).map { index -> Int32 in
                var value = 0
                for b in 0..<bits where index & (1 << b) != 0 { value |= 1 << (bits - 1 - b) }
                return Int32(value)
            }
            let quarter = max(half / 2, 1)
            let angle = { (j: Int, over: Int) in -2 * Double.pi * Double(j) / Double(over) }
            method = .fft(
                half: half, reversed: reversed,
                twiddleRe: (0..<quarter).map { cos(angle($0, half)) },
                twiddleIm: (0..<quarter).map { sin(angle($0, half)) },
                splitRe: (0...half).map { cos(angle($0, n)) },
                splitIm: (0...half).map { sin(angle($0, n)) })
        } else {
            let bins = binCount
            var basis = [Double](repeating: 0, count: n * 2 * bins)
            for t in 0..<n {
                for k in 0..<bins {
                    let angle = 2 * Double.pi * Double((k * t) % n) / Double(n)
                    basis[t * 2 * bins + k] = cos(angle)
                    basis[t * 2 * bins + bins + k] = -sin(angle)
                }
            }
            method = .dft(basis: basis)
        }
    }

    /// Scratch a caller reuses across calls (one per thread).
    struct Scratch {
        var re: [Double]
        var im: [Double]
        init(frames: Int, size: Int, bins: Int) {
            re = [Double](repeating: 0, count: max(frames * 2 * bins, size))
            im = [Double](repeating: 0, count: size)
        }
    }

    /// Scratch sized for `frames` frames per call.
    func makeScratch(frames: Int) -> Scratch { Scratch(frames: frames, size: size, bins: binCount) }

    /// Largest number of frames one `compute` call takes.
    var maximumFrames: Int {
        if case .dft = method { return Self.blockFrames }
        return 1
    }

    /// `frames` frames (rows of `size` samples at `input`, contiguous) -> their power
    /// spectra (rows of `binCount` at `output`). `frames <= maximumFrames`.
    func compute(
        _ input: UnsafePointer<Double>, frames: Int, into output: UnsafeMutablePointer<Double>, scratch: inout Scratch
    ) {
        precondition(frames <= maximumFrames)
        switch method {
        case let .fft(half, reversed, twiddleRe, twiddleIm, splitRe, splitIm):
            scratch.re.withUnsafeMutableBufferPointer { rePointer in
                scratch.im.withUnsafeMutableBufferPointer { imPointer in
                    reversed.withUnsafeBufferPointer { order in
                        twiddleRe.withUnsafeBufferPointer { wr in
                            twiddleIm.withUnsafeBufferPointer { wi in
                                splitRe.withUnsafeBufferPointer { sr in
                                    splitIm.withUnsafeBufferPointer { si in
                                        Self.packedRealFFT(
                                            input, half: half, order: order.baseAddress!, wr: wr.baseAddress!,
                                            wi: wi.baseAddress!, sr: sr.baseAddress!, si: si.baseAddress!,
                                            re: rePointer.baseAddress!, im: imPointer.baseAddress!, power: output)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        case let .dft(basis):
            let bins = binCount
            scratch.re.withUnsafeMutableBufferPointer { spectrum in
                basis.withUnsafeBufferPointer { b in
                    cblas_dgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(frames), Int32(2 * bins), Int32(size),
                        1, input, Int32(size), b.baseAddress!, Int32(2 * bins), 0, spectrum.baseAddress!, Int32(2 * bins))
                    for r in 0..<frames {
                        let row = spectrum.baseAddress! + r * 2 * bins
                        for k in 0..<bins {
                            output[r * bins + k] = row[k] * row[k] + row[bins + k] * row[bins + k]
                        }
                    }
                }
            }
        }
    }

    /// One frame: z[j] = x[2j] + i x[2j+1] -> Z = FFT_half(z) -> X[k] = E[k] + W_n^k O[k] with
    /// E[k] = (Z[k] + conj Z[half-k]) / 2 and O[k] = (Z[k] - conj Z[half-k]) / 2i.
    @inline(__always)
    private static func packedRealFFT(
        _ x: UnsafePointer<Double>, half: Int, order: UnsafePointer<Int32>,
        wr: UnsafePointer<Double>, wi: UnsafePointer<Double>, sr: UnsafePointer<Double>, si: UnsafePointer<Double>,
        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, power: UnsafeMutablePointer<Double>
    ) {
        for j in 0..<half {
            let source = Int(order[j])
            re[j] = x[2 * source]
            im[j] = x[2 * source + 1]
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
            let zr = re[p], zi = im[p], cr = re[q], ci = -im[q]   // Z[k], conj(Z[half - k])
            let er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci)
            let dr = 0.5 * (zr - cr), di = 0.5 * (zi - ci)        // O = (dr + i di) / i = di - i dr
            let orr = di, oi = -dr
            let xr = er + sr[k] * orr - si[k] * oi
            let xi = ei + sr[k] * oi + si[k] * orr
            power[k] = xr * xr + xi * xi
        }
    }
}
