import COpenBLAS
import KMTalkVector
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
/// radix-2), then split, O(n log n). When `n / 2` has no prime factor above 7 (e.g. 400 =
/// 2 x 2^3 x 5^2, a 25 ms frame at 16 kHz, as Whisper-style front-ends use) the same packing runs a
/// mixed-radix Stockham FFT (no reordering pass), also O(n log n): for n = 400 it is 8x
/// less arithmetic than the DFT. Other sizes use a DFT by one dgemm per block of frames
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
        /// Packed real FFT through a mixed-radix Stockham FFT of `half` points: per stage
        /// its radix, the twiddles exp(-2 pi i p k / length) ([m * radix] pairs, p < m =
        /// length / radix) and the radix's roots exp(-2 pi i j k / radix) ([radix^2] pairs).
        case mixed(half: Int, stages: [MixedRadixStage], splitRe: [Double], splitIm: [Double])
        /// [n, 2 * bins]: cos (first half) and -sin (second half) of the DFT.
        case dft(basis: [Double])
    }

    /// One stage of the mixed-radix FFT.
    struct MixedRadixStage: Sendable {
        let radix: Int
        /// Points of the sub-transforms this stage splits (`half`, then / radix each stage).
        let length: Int
        let twiddleRe: [Double], twiddleIm: [Double]
        let rootRe: [Double], rootIm: [Double]
    }

    /// The prime factors of `n` (ascending) when none exceeds 7, else nil.
    static func smallFactors(_ n: Int) -> [Int]? {
        var rest = n, factors: [Int] = []
        for p in [2, 3, 5, 7] {
            while rest % p == 0 {
                factors.append(p)
                rest /= p
            }
        }
        return rest == 1 ? factors : nil
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
        } else if n % 2 == 0, let factors = Self.smallFactors(half) {
            var stages: [MixedRadixStage] = []
            var length = half
            for radix in factors {
                let m = length / radix
                var twiddleRe = [Double](repeating: 0, count: m * radix), twiddleIm = twiddleRe
                for p in 0..<m {
                    for k in 0..<radix {
                        let angle = -2 * Double.pi * Double(p * k) / Double(length)
                        twiddleRe[p * radix + k] = cos(angle)
                        twiddleIm[p * radix + k] = sin(angle)
                    }
                }
                var rootRe = [Double](repeating: 0, count: radix * radix), rootIm = rootRe
                for j in 0..<radix {
                    for k in 0..<radix {
                        let angle = -2 * Double.pi * Double((j * k) % radix) / Double(radix)
                        rootRe[j * radix + k] = cos(angle)
                        rootIm[j * radix + k] = sin(angle)
                    }
                }
                stages.append(MixedRadixStage(
                    radix: radix, length: length, twiddleRe: twiddleRe, twiddleIm: twiddleIm, rootRe: rootRe, rootIm: rootIm))
                length = m
            }
            let angle = { (j: Int) in -2 * Double.pi * Double(j) / Double(n) }
            method = .mixed(
                half: half, stages: stages, splitRe: (0...half).map { cos(angle($0)) }, splitIm: (0...half).map { sin(angle($0)) })
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
        /// The radix-2 FFT (`FFTLanes`, up to four frames at once): their packed complex
        /// points, one frame per lane (real parts, then imaginary parts, n/2 each).
        var lanes: [SIMD4<Double>]
        init(frames: Int, size: Int, bins: Int) {
            re = [Double](repeating: 0, count: max(frames * 2 * bins, size))
            im = [Double](repeating: 0, count: size)
            lanes = [SIMD4<Double>](repeating: .zero, count: size)
        }
    }

    /// Scratch sized for `frames` frames per call.
    func makeScratch(frames: Int) -> Scratch { Scratch(frames: frames, size: size, bins: binCount) }

    /// Largest number of frames one `compute` call takes.
    var maximumFrames: Int {
        switch method {
        case .dft: return Self.blockFrames
        case .fft: return 4
        case .mixed: return 1
        }
    }

    /// `frames` frames (rows of `size` samples at `input`, contiguous) -> their power
    /// spectra (rows of `binCount` at `output`). `frames <= maximumFrames`.
    func compute(
        _ input: UnsafePointer<Double>, frames: Int, into output: UnsafeMutablePointer<Double>, scratch: inout Scratch
    ) {
        precondition(frames <= maximumFrames)
        switch method {
        case let .fft(half, reversed, twiddleRe, twiddleIm, splitRe, splitIm):
            scratch.lanes.withUnsafeMutableBufferPointer { lanes in
                reversed.withUnsafeBufferPointer { order in
                    twiddleRe.withUnsafeBufferPointer { wr in
                        twiddleIm.withUnsafeBufferPointer { wi in
                            splitRe.withUnsafeBufferPointer { sr in
                                splitIm.withUnsafeBufferPointer { si in
                                    FFTLanes.packedRealFFT4(
                                        input, frames: frames, size: size, half: half, order: order.baseAddress!,
                                        wr: wr.baseAddress!, wi: wi.baseAddress!, sr: sr.baseAddress!, si: si.baseAddress!,
                                        re: lanes.baseAddress!, im: lanes.baseAddress! + half, power: output)
                                }
                            }
                        }
                    }
                }
            }
        case let .mixed(half, stages, splitRe, splitIm):
            scratch.re.withUnsafeMutableBufferPointer { rePointer in
                scratch.im.withUnsafeMutableBufferPointer { imPointer in
                    splitRe.withUnsafeBufferPointer { sr in
                        splitIm.withUnsafeBufferPointer { si in
                            Self.mixedRadixRealFFT(
                                input, half: half, stages: stages, sr: sr.baseAddress!, si: si.baseAddress!,
                                re: rePointer.baseAddress!, im: imPointer.baseAddress!, power: output)
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

    /// One frame through the real-FFT packing (z[j] = x[2j] + i x[2j+1] -> Z = FFT_half(z) ->
    /// X[k] = E[k] + W_n^k O[k] with E[k] = (Z[k] + conj Z[half-k]) / 2 and
    /// O[k] = (Z[k] - conj Z[half-k]) / 2i), with the complex FFT of `half` points done by the
    /// mixed-radix Stockham stages: stage (radix r, length L, m = L / r, stride s) maps
    /// y[q + s (r p + k)] = (sum_j x[q + s (p + j m)] w_r^(jk)) exp(-2 pi i p k / L), then
    /// swaps x and y. `re` and `im` hold 2 * half values each (x, then y).
    @inline(__always)
    private static func mixedRadixRealFFT(
        _ x: UnsafePointer<Double>, half: Int, stages: [MixedRadixStage],
        sr: UnsafePointer<Double>, si: UnsafePointer<Double>,
        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, power: UnsafeMutablePointer<Double>
    ) {
        var xr = re, xi = im, yr = re + half, yi = im + half
        for j in 0..<half {
            xr[j] = x[2 * j]
            xi[j] = x[2 * j + 1]
        }
        var stride = 1
        for stage in stages {
            let r = stage.radix, m = stage.length / r
            stage.twiddleRe.withUnsafeBufferPointer { twr in
                stage.twiddleIm.withUnsafeBufferPointer { twi in
                    stage.rootRe.withUnsafeBufferPointer { ror in
                        stage.rootIm.withUnsafeBufferPointer { roi in
                            for p in 0..<m {
                                for q in 0..<stride {
                                    for k in 0..<r {
                                        var accRe = 0.0, accIm = 0.0
                                        for j in 0..<r {
                                            let index = q + stride * (p + j * m)
                                            let wr = ror[j * r + k], wi = roi[j * r + k]
                                            accRe += xr[index] * wr - xi[index] * wi
                                            accIm += xr[index] * wi + xi[index] * wr
                                        }
                                        let tr = twr[p * r + k], ti = twi[p * r + k]
                                        let out = q + stride * (r * p + k)
                                        yr[out] = accRe * tr - accIm * ti
                                        yi[out] = accRe * ti + accIm * tr
                                    }
                                }
                            }
                        }
                    }
                }
            }
            swap(&xr, &yr)
            swap(&xi, &yi)
            stride *= r
        }
        if xr != re {
            re.update(from: xr, count: half)
            im.update(from: xi, count: half)
        }
        split(half: half, re: re, im: im, sr: sr, si: si, power: power)
    }

    /// From Z = FFT_half(z) in `re`/`im` to |X_k|^2: X[k] = E[k] + W_n^k O[k].
    @inline(__always)
    private static func split(
        half: Int, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
        sr: UnsafePointer<Double>, si: UnsafePointer<Double>, power: UnsafeMutablePointer<Double>
    ) {
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
