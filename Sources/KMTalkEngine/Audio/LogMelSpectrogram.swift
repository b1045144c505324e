import Glibc

/// Parameters of the log-mel front-end, read from the model's metadata
/// (`config.frontend`).
public struct LogMelConfig: Sendable, Equatable {
    /// Sample rate of the input signal in Hz.
    public var sampleRate: Int
    /// FFT size in samples.
    public var fftSize: Int
    /// Hann window length in samples (<= fftSize, centred in the FFT frame).
    public var windowLength: Int
    /// Samples between frames.
    public var hopLength: Int
    /// Number of mel bands.
    public var melCount: Int
    /// Lowest and highest band edge in Hz.
    public var minFrequency: Double
    public var maxFrequency: Double
    /// Power values are clamped to at least this before the natural log.
    public var logFloor: Float

    public init(
        sampleRate: Int = 16_000, fftSize: Int = 400, windowLength: Int = 400, hopLength: Int = 160,
        melCount: Int = 80, minFrequency: Double = 0, maxFrequency: Double = 8_000, logFloor: Float = 1e-6
    ) {
        self.sampleRate = sampleRate
        self.fftSize = fftSize
        self.windowLength = windowLength
        self.hopLength = hopLength
        self.melCount = melCount
        self.minFrequency = minFrequency
        self.maxFrequency = maxFrequency
        self.logFloor = logFloor
    }

    /// Checks the parameters; throws a corrupt-model error naming the bad field.
    public func validate() throws {
        func fail(_ detail: String) -> KMTError { .corruptModel("frontend: \(detail)") }
        guard (8_000...192_000).contains(sampleRate) else { throw fail("sample_rate \(sampleRate) outside 8000..192000") }
        guard fftSize >= 16, fftSize <= 16_384 else { throw fail("n_fft \(fftSize) outside 16..16384") }
        guard windowLength >= 2, windowLength <= fftSize else { throw fail("win_length \(windowLength) must be 2..n_fft") }
        guard hopLength >= 1, hopLength <= fftSize * 4 else { throw fail("hop_length \(hopLength) out of range") }
        guard melCount >= 1, melCount <= 512 else { throw fail("n_mels \(melCount) outside 1..512") }
        guard minFrequency >= 0, maxFrequency > minFrequency, maxFrequency <= Double(sampleRate) / 2 else {
            throw fail("f_min \(minFrequency) / f_max \(maxFrequency) must satisfy 0 <= f_min < f_max <= sample_rate/2")
        }
        guard logFloor > 0, logFloor.isFinite else { throw fail("log_floor must be positive") }
    }

    /// Number of frames for `sampleCount` samples (centred frames: 1 + samples / hop).
    public func frameCount(sampleCount: Int) -> Int { 1 + sampleCount / hopLength }
}

/// Log-mel spectrogram computed with BLAS.
///
/// Conventions (those of `torch.stft(center=True, pad_mode="constant")` followed by
/// torchaudio's HTK mel filterbank without normalisation): the signal is zero-padded by
/// n_fft/2 on both sides; frame `t` covers samples `[t*hop - n_fft/2, t*hop + n_fft/2)`;
/// the periodic Hann window of `win_length` is centred in the frame; power spectrum
/// `|X_k|^2` for `k = 0...n_fft/2`; triangular HTK-mel filters between `f_min` and `f_max`;
/// output `ln(max(mel, log_floor))`, shape [frames, n_mels].
///
/// The DFT is one sgemm of the framed signal against a windowed cosine/sine basis, the
/// filterbank a second; frames are processed in chunks so memory stays bounded.
public final class LogMelSpectrogram: Sendable {
    public let config: LogMelConfig
    /// Number of FFT bins, n_fft/2 + 1.
    let binCount: Int
    /// [n_fft, 2 * bins]: windowed cos (first half) and -sin (second half).
    let basis: [Float]
    /// [n_mels, bins] triangular filters.
    public let filterbank: Tensor
    /// Frames per sgemm chunk.
    static let chunkFrames = 512

    public init(config: LogMelConfig) {
        self.config = config
        let n = config.fftSize
        let bins = n / 2 + 1
        binCount = bins
        var window = [Double](repeating: 0, count: n)
        let offset = (n - config.windowLength) / 2
        for i in 0..<config.windowLength {
            window[offset + i] = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(config.windowLength))
        }
        var basis = [Float](repeating: 0, count: n * 2 * bins)
        for t in 0..<n where window[t] != 0 {
            for k in 0..<bins {
                let angle = 2 * Double.pi * Double((k * t) % n) / Double(n)
                basis[t * 2 * bins + k] = Float(window[t] * cos(angle))
                basis[t * 2 * bins + bins + k] = Float(-window[t] * sin(angle))
            }
        }
        self.basis = basis
        self.filterbank = Self.melFilterbank(config: config, bins: bins)
    }

    /// HTK mel scale.
    static func hertzToMel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
    static func melToHertz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }

    /// Triangular filters [n_mels, bins] on the HTK mel scale, unnormalised (torchaudio's
    /// `melscale_fbanks(norm=None, mel_scale="htk")`).
    static func melFilterbank(config: LogMelConfig, bins: Int) -> Tensor {
        let melMin = hertzToMel(config.minFrequency), melMax = hertzToMel(config.maxFrequency)
        let points = (0..<(config.melCount + 2)).map {
            melToHertz(melMin + (melMax - melMin) * Double($0) / Double(config.melCount + 1))
        }
        var weights = [Float](repeating: 0, count: config.melCount * bins)
        for m in 0..<config.melCount {
            let left = points[m], centre = points[m + 1], right = points[m + 2]
            for k in 0..<bins {
                let frequency = Double(k) * Double(config.sampleRate) / Double(config.fftSize)
                let rising = (frequency - left) / (centre - left)
                let falling = (right - frequency) / (right - centre)
                weights[m * bins + k] = Float(max(0, min(rising, falling)))
            }
        }
        return Tensor(shape: [config.melCount, bins], data: weights)
    }

    /// The log-mel spectrogram of `samples` (at `config.sampleRate`), shape [frames, n_mels].
    public func callAsFunction(_ samples: [Float]) -> Tensor {
        let n = config.fftSize, hop = config.hopLength, bins = binCount, mels = config.melCount
        let frames = config.frameCount(sampleCount: samples.count)
        var output = [Float](repeating: 0, count: frames * mels)
        let chunk = min(Self.chunkFrames, frames)
        var framed = [Float](repeating: 0, count: chunk * n)
        var spectrum = [Float](repeating: 0, count: chunk * 2 * bins)
        var power = [Float](repeating: 0, count: chunk * bins)
        let half = n / 2
        let floor = config.logFloor

        samples.withUnsafeBufferPointer { signal in
            basis.withUnsafeBufferPointer { basisPointer in
                filterbank.data.withUnsafeBufferPointer { fb in
                    framed.withUnsafeMutableBufferPointer { framedPointer in
                        spectrum.withUnsafeMutableBufferPointer { spectrumPointer in
                            power.withUnsafeMutableBufferPointer { powerPointer in
                                output.withUnsafeMutableBufferPointer { out in
                                    var first = 0
                                    while first < frames {
                                        let rows = min(chunk, frames - first)
                                        for r in 0..<rows {
                                            let destination = framedPointer.baseAddress! + r * n
                                            let start = (first + r) * hop - half
                                            for i in 0..<n {
                                                let index = start + i
                                                destination[i] = index >= 0 && index < signal.count ? signal[index] : 0
                                            }
                                        }
                                        BLAS.sgemm(
                                            transposeA: false, transposeB: false, m: rows, n: 2 * bins, k: n,
                                            a: framedPointer.baseAddress!, lda: n, b: basisPointer.baseAddress!, ldb: 2 * bins,
                                            c: spectrumPointer.baseAddress!, ldc: 2 * bins)
                                        for r in 0..<rows {
                                            let row = spectrumPointer.baseAddress! + r * 2 * bins
                                            for k in 0..<bins {
                                                let re = row[k], im = row[bins + k]
                                                powerPointer[r * bins + k] = re * re + im * im
                                            }
                                        }
                                        let destination = out.baseAddress! + first * mels
                                        BLAS.sgemm(
                                            transposeA: false, transposeB: true, m: rows, n: mels, k: bins,
                                            a: powerPointer.baseAddress!, lda: bins, b: fb.baseAddress!, ldb: bins,
                                            c: destination, ldc: mels)
                                        for i in 0..<(rows * mels) {
                                            destination[i] = logf(max(destination[i], floor))
                                        }
                                        first += rows
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [frames, mels], data: output)
    }
}
