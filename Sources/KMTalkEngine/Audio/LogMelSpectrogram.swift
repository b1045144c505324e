import Glibc

/// Parameters of the log-mel front-end, read from the model's metadata
/// (`config.frontend`).
struct LogMelConfig: Sendable, Equatable {
    /// Sample rate of the input signal in Hz.
    var sampleRate: Int
    /// FFT size in samples.
    var fftSize: Int
    /// Hann window length in samples (<= fftSize, centred in the FFT frame).
    var windowLength: Int
    /// Samples between frames.
    var hopLength: Int
    /// Number of mel bands.
    var melCount: Int
    /// Lowest and highest band edge in Hz.
    var minFrequency: Double
    var maxFrequency: Double
    /// Power values are clamped to at least this before the natural log.
    var logFloor: Float

    init(
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
    func validate() throws {
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
    func frameCount(sampleCount: Int) -> Int { 1 + sampleCount / hopLength }
}

/// Log-mel spectrogram in double precision (see `PowerSpectrum` for why).
///
/// Conventions (those of `torch.stft(center=True, pad_mode="constant")` followed by
/// torchaudio's HTK mel filterbank without normalisation): the signal is zero-padded by
/// n_fft/2 on both sides; frame `t` covers samples `[t*hop - n_fft/2, t*hop + n_fft/2)`;
/// the periodic Hann window of `win_length` is centred in the frame; power spectrum
/// `|X_k|^2` for `k = 0...n_fft/2`; triangular HTK-mel filters between `f_min` and `f_max`;
/// output `ln(max(mel, log_floor))`, shape [frames, n_mels].
///
/// Each filter is applied over its own few bins only (the triangles are sparse).
final class LogMelSpectrogram: Sendable {
    let config: LogMelConfig
    /// Number of FFT bins, n_fft/2 + 1.
    let binCount: Int
    /// Periodic Hann window of win_length, centred in n_fft samples.
    let window: [Double]
    let spectrum: PowerSpectrum
    /// [n_mels, bins] triangular filters.
    let filterbank: Tensor
    /// Per band: first bin and the non-zero weights from there (double precision).
    let bands: [(first: Int, weights: [Double])]

    init(config: LogMelConfig) {
        self.config = config
        let n = config.fftSize
        let bins = n / 2 + 1
        binCount = bins
        var window = [Double](repeating: 0, count: n)
        let offset = (n - config.windowLength) / 2
        for i in 0..<config.windowLength {
            window[offset + i] = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(config.windowLength))
        }
        self.window = window
        spectrum = PowerSpectrum(size: n)
        let weights = Self.melWeights(config: config, bins: bins)
        filterbank = Tensor(shape: [config.melCount, bins], data: weights.map { Float($0) })
        bands = (0..<config.melCount).map { m in
            let row = Array(weights[(m * bins)..<((m + 1) * bins)])
            guard let first = row.firstIndex(where: { $0 != 0 }), let last = row.lastIndex(where: { $0 != 0 }) else {
                return (0, [])
            }
            return (first, Array(row[first...last]))
        }
    }

    /// HTK mel scale.
    static func hertzToMel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
    static func melToHertz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }

    /// Triangular filters [n_mels, bins] on the HTK mel scale, unnormalised (torchaudio's
    /// `melscale_fbanks(norm=None, mel_scale="htk")`).
    static func melFilterbank(config: LogMelConfig, bins: Int) -> Tensor {
        Tensor(shape: [config.melCount, bins], data: melWeights(config: config, bins: bins).map { Float($0) })
    }

    /// The filters of `melFilterbank` in double precision, row-major [n_mels, bins].
    static func melWeights(config: LogMelConfig, bins: Int) -> [Double] {
        let melMin = hertzToMel(config.minFrequency), melMax = hertzToMel(config.maxFrequency)
        let points = (0..<(config.melCount + 2)).map {
            melToHertz(melMin + (melMax - melMin) * Double($0) / Double(config.melCount + 1))
        }
        var weights = [Double](repeating: 0, count: config.melCount * bins)
        for m in 0..<config.melCount {
            let left = points[m], centre = points[m + 1], right = points[m + 2]
            for k in 0..<bins {
                let frequency = Double(k) * Double(config.sampleRate) / Double(config.fftSize)
                let rising = (frequency - left) / (centre - left)
                let falling = (right - frequency) / (right - centre)
                weights[m * bins + k] = max(0, min(rising, falling))
            }
        }
        return weights
    }

    /// The log-mel spectrogram of `samples` (at `config.sampleRate`), shape [frames, n_mels].
    func callAsFunction(_ samples: [Float]) -> Tensor {
        samples.withUnsafeBufferPointer { signal in
            // Frames are independent: split over the call's threads (`WorkerThreads`).
            WorkerThreads.rows(config.frameCount(sampleCount: samples.count), width: config.melCount, minimumPerPart: 512, alignment: 4) {
                frames($0, signal: signal, signalStart: 0)
            }
        }
    }

    /// Log-mel frames `range` (absolute frame indices) of a signal of which `signal` holds
    /// the samples from absolute index `signalStart` on; samples before index 0 or past the
    /// end of `signal` read as zero (the caller keeps every sample the frames cover).
    /// Shared by the offline path and streaming, so both compute identical frames.
    func frames(_ range: Range<Int>, signal: UnsafeBufferPointer<Float>, signalStart: Int) -> Tensor {
        let n = config.fftSize, frames = range.count
        var output = [Float](repeating: 0, count: frames * config.melCount)
        let block = min(spectrum.maximumFrames, frames)
        var framed = [Double](repeating: 0, count: block * n)
        var work = Workspace(spectrum: spectrum, frames: block)
        framed.withUnsafeMutableBufferPointer { framedPointer in
            output.withUnsafeMutableBufferPointer { out in
                var first = 0
                while first < frames {
                    let rows = min(block, frames - first)
                    for r in 0..<rows {
                        windowFrame(range.lowerBound + first + r, signal: signal, signalStart: signalStart,
                               into: framedPointer.baseAddress! + r * n)
                    }
                    logMel(windowed: framedPointer.baseAddress!, frames: rows, into: out.baseAddress! + first * config.melCount, work: &work)
                    first += rows
                }
            }
        }
        return Tensor(shape: [frames, config.melCount], data: output)
    }

    /// Scratch for `logMel(windowed:frames:into:work:)`: power spectra and the FFT's buffers
    /// for up to `frames` frames per call.
    struct Workspace {
        var power: [Double]
        var scratch: PowerSpectrum.Scratch
        init(spectrum: PowerSpectrum, frames: Int) {
            power = [Double](repeating: 0, count: max(frames, 1) * spectrum.binCount)
            scratch = spectrum.makeScratch(frames: max(frames, 1))
        }
    }

    /// Frames a spectrum call takes at once (the FFT's four lanes).
    var framesPerSpectrum: Int { spectrum.maximumFrames }

    /// Writes the `fftSize` windowed samples of absolute frame `frame` (centred on
    /// `frame * hop`) of a signal held from absolute index `signalStart` on to `destination`;
    /// samples outside `signal` read as zero.
    func windowFrame(_ frame: Int, signal: UnsafeBufferPointer<Float>, signalStart: Int, into destination: UnsafeMutablePointer<Double>) {
        let n = config.fftSize
        let start = frame * config.hopLength - n / 2 - signalStart
        window.withUnsafeBufferPointer { w in
            if start >= 0, start + n <= signal.count {
                for i in 0..<n { destination[i] = Double(signal[start + i]) * w[i] }
            } else {
                for i in 0..<n {
                    let index = start + i
                    destination[i] = index >= 0 && index < signal.count ? Double(signal[index]) * w[i] : 0
                }
            }
        }
    }

    /// Log-mel rows of `frames` windowed frames (rows of `fftSize` at `windowed`, from
    /// `windowFrame(_:...)`, any signals) into `frames` rows of `melCount` at `output`,
    /// `framesPerSpectrum` frames per spectrum call. A frame's row does not depend on the
    /// frames beside it (the FFT's lanes are independent), so frames of several streams can
    /// share a call.
    func logMel(windowed: UnsafePointer<Double>, frames: Int, into output: UnsafeMutablePointer<Float>, work: inout Workspace) {
        let n = config.fftSize, bins = binCount, mels = config.melCount
        let block = spectrum.maximumFrames
        let floor = Double(config.logFloor)
        if work.power.count < min(block, frames) * bins { work = Workspace(spectrum: spectrum, frames: block) }
        work.power.withUnsafeMutableBufferPointer { powerPointer in
            var first = 0
            while first < frames {
                let rows = min(block, frames - first)
                spectrum.compute(windowed + first * n, frames: rows, into: powerPointer.baseAddress!, scratch: &work.scratch)
                for r in 0..<rows {
                    let row = powerPointer.baseAddress! + r * bins
                    let destination = output + (first + r) * mels
                    for (m, band) in bands.enumerated() {
                        var sum = 0.0
                        for (j, weight) in band.weights.enumerated() { sum += weight * row[band.first + j] }
                        destination[m] = logf(Float(max(sum, floor)))
                    }
                }
                first += rows
            }
        }
    }
}
