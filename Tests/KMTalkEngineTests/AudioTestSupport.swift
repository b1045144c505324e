import CSndFile
import Foundation
import Testing

/// Writes test audio with libsndfile in any format it can encode.
enum AudioWriter {
    /// A sine of `frequency` Hz, amplitude 0.5 in the mono mix: channel c carries
    /// gain (0.4 + 0.2 c / (channels - 1)) so the channel average is exactly 0.5.
    static func sine(frequency: Double, rate: Int, channels: Int, seconds: Double) -> [Float] {
        let frames = Int(Double(rate) * seconds)
        var samples = [Float](repeating: 0, count: frames * channels)
        for frame in 0..<frames {
            let value = sin(2 * Double.pi * frequency * Double(frame) / Double(rate))
            for channel in 0..<channels {
                let gain = channels == 1 ? 0.5 : 0.4 + 0.2 * Double(channel) / Double(channels - 1)
                samples[frame * channels + channel] = Float(gain * value)
            }
        }
        return samples
    }

    /// Writes interleaved `samples`; returns false when libsndfile cannot encode the format.
    @discardableResult
    static func write(path: String, format: Int32, rate: Int, channels: Int, samples: [Float]) -> Bool {
        var info = SF_INFO()
        info.samplerate = Int32(rate)
        info.channels = Int32(channels)
        info.format = format
        guard sf_format_check(&info) == 1, let file = sf_open(path, Int32(SFM_WRITE), &info) else { return false }
        let written = samples.withUnsafeBufferPointer {
            sf_writef_float(file, $0.baseAddress, sf_count_t(samples.count / channels))
        }
        sf_close(file)
        return written == sf_count_t(samples.count / channels)
    }
}

/// Root-mean-square of a slice.
func rms(_ values: ArraySlice<Float>) -> Float {
    (values.reduce(0) { $0 + $1 * $1 } / Float(max(values.count, 1))).squareRoot()
}

/// Positive-going zero crossings per second in the middle of a signal.
func estimatedFrequency(_ samples: [Float], rate: Int) -> Double {
    let middle = samples[(samples.count / 4)..<(3 * samples.count / 4)]
    var crossings = 0
    var previous = middle.first ?? 0
    for value in middle.dropFirst() {
        if previous < 0 && value >= 0 { crossings += 1 }
        previous = value
    }
    return Double(crossings) * Double(rate) / Double(middle.count)
}

/// A small seeded generator (SplitMix64) so corruption tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
