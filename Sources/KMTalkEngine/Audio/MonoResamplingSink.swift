
/// The audio front door: takes interleaved float blocks at any supported rate and
/// channel count, mixes them to mono, checks for non-finite samples, resamples them to
/// the model rate and accumulates the result.
///
/// Only the model-rate mono signal is kept whole; input arrives and leaves in blocks,
/// so a long file never sits in memory twice.
final class MonoResamplingSink {
    /// The lowest and highest input rates accepted.
    static let supportedRates: ClosedRange<Int> = 8_000...192_000
    /// Samples beyond this magnitude (+60 dBFS) only come from corrupt float data; they
    /// are treated like non-finite samples.
    static let maximumMagnitude: Float = 1_000

    let inputRate: Int
    let channels: Int
    let outputRate: Int
    let nonfinitePolicy: NonFinitePolicy
    /// Names the input in error messages ("speech.wav" or "PCM input").
    let source: String

    private let resampler: Resampler?
    private var mono: [Float] = []
    private var framesSeen = 0
    /// Number of non-finite or absurd samples replaced by zero (with KMT_NONFINITE_ZERO).
    private(set) var replacedSamples = 0
    /// The accumulated model-rate mono samples.
    private(set) var output: [Float] = []
    /// Model-rate samples already handed out by `takeOutput`.
    private var takenSamples = 0

    init(inputRate: Int, channels: Int, outputRate: Int, nonfinitePolicy: NonFinitePolicy, source: String) throws {
        guard Self.supportedRates.contains(inputRate) else {
            throw KMTError.invalidAudio("\(source): sample rate \(inputRate) Hz is outside the supported 8000..192000 Hz")
        }
        guard channels >= 1, channels <= 1024 else {
            throw KMTError.invalidAudio("\(source): channel count \(channels) is outside 1..1024")
        }
        self.inputRate = inputRate
        self.channels = channels
        self.outputRate = outputRate
        self.nonfinitePolicy = nonfinitePolicy
        self.source = source
        self.resampler = inputRate == outputRate ? nil : try Resampler(inputRate: Double(inputRate), outputRate: Double(outputRate))
    }

    /// Consumes `frameCount` interleaved frames.
    func consume(_ samples: UnsafePointer<Float>, frameCount: Int) throws {
        mono.removeAll(keepingCapacity: true)
        mono.reserveCapacity(frameCount)
        let scale = 1 / Float(channels)
        for frame in 0..<frameCount {
            let base = samples + frame * channels
            var sum: Float = 0
            for channel in 0..<channels {
                var sample = base[channel]
                if !(abs(sample) <= Self.maximumMagnitude) {
                    if nonfinitePolicy == .zero {
                        sample = 0
                        replacedSamples += 1
                    } else {
                        let seconds = Double(framesSeen + frame) / Double(inputRate)
                        let kind = sample.isFinite ? "absurd sample magnitude" : "non-finite sample"
                        throw KMTError.invalidAudio(
                            "\(source): \(kind) (\(base[channel])) at frame \(framesSeen + frame) (\(formatSeconds(seconds)) s), channel \(channel)")
                    }
                }
                sum += sample
            }
            mono.append(sum * scale)
        }
        framesSeen += frameCount
        if let resampler {
            try mono.withUnsafeBufferPointer { try resampler.process($0, into: &output) }
        } else {
            output.append(contentsOf: mono)
        }
    }

    /// Returns the model-rate samples produced so far and forgets them (streaming: the
    /// sink then holds only the current block, whatever the stream's duration).
    func takeOutput() -> [Float] {
        defer {
            takenSamples += output.count
            output.removeAll(keepingCapacity: true)
        }
        return output
    }

    /// Ends the stream and returns the model-rate mono signal (what `takeOutput` has not
    /// returned yet). Input shorter than one model-rate sample (1 frame at 48 kHz for a
    /// 16 kHz model) gives one sample, its last value, so every call that accepts a frame
    /// animates it the same way.
    func finish() throws -> [Float] {
        try resampler?.flush(into: &output)
        if framesSeen > 0, takenSamples + output.count == 0 {
            output.append(mono.last ?? 0)
        }
        if replacedSamples > 0 {
            Log.warning("\(source): replaced \(replacedSamples) non-finite samples with silence")
        }
        mono = []
        return output
    }
}

/// Formats seconds with three decimals without Foundation.
func formatSeconds(_ seconds: Double) -> String {
    let millis = Int((seconds * 1000).rounded())
    let fraction = millis % 1000
    return "\(millis / 1000)." + String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
}
