import Foundation
import Testing

@testable import KMTalkEngine

@Suite struct LogMelTests {
    @Test func matchesNumPyReference() throws {
        let golden = try Fixtures.golden("logmel_golden.safetensors")
        let config = try #require(golden.metadataValue("config"))
        let json = try JSONParser.parse(config)
        let melConfig = LogMelConfig(
            sampleRate: json["sample_rate"]!.integerValue!, fftSize: json["n_fft"]!.integerValue!,
            windowLength: json["win_length"]!.integerValue!, hopLength: json["hop_length"]!.integerValue!,
            melCount: json["n_mels"]!.integerValue!, minFrequency: json["f_min"]!.doubleValue!,
            maxFrequency: json["f_max"]!.doubleValue!, logFloor: Float(json["log_floor"]!.doubleValue!))
        try melConfig.validate()
        let features = LogMelSpectrogram(config: melConfig)(try golden.tensor("samples").data)
        expectClose(features, try golden.tensor("features"), "log-mel")
    }

    @Test func longInputsAreChunkedWithoutChangingResults() {
        // More frames than one sgemm chunk: frames computed in different chunks must
        // equal frames computed alone.
        let config = LogMelConfig()
        let mel = LogMelSpectrogram(config: config)
        var samples = [Float](repeating: 0, count: 160 * 1300)
        for n in samples.indices {
            let tone = Float(sin(Double(n) * 0.05)) * 0.3
            let noise = Float((n * 7919) % 101) / 1000
            samples[n] = tone + noise
        }
        let whole = mel(samples)
        #expect(whole.shape == [1301, 80])
        let tail = mel(Array(samples[(160 * 1000)...]))
        // Frame 1000 of the whole (centre at sample 160000) equals frame 0 of the tail
        // except for the left context; compare a frame well inside instead.
        var worst: Float = 0
        for c in 0..<80 {
            let difference: Float = abs(whole.data[1100 * 80 + c] - tail.data[100 * 80 + c])
            worst = max(worst, difference)
        }
        #expect(worst < 1e-3)
    }

    @Test func silenceHitsTheLogFloor() {
        let config = LogMelConfig(logFloor: 1e-6)
        let features = LogMelSpectrogram(config: config)([Float](repeating: 0, count: 1600))
        #expect(features.shape == [11, 80])
        #expect(features.data.allSatisfy { abs($0 - logf(1e-6)) < 1e-5 })
    }

    @Test func invalidConfigurationsAreRejected() {
        #expect(throws: KMTError.self) { try LogMelConfig(fftSize: 8).validate() }
        #expect(throws: KMTError.self) { try LogMelConfig(windowLength: 500).validate() }
        #expect(throws: KMTError.self) { try LogMelConfig(maxFrequency: 9000).validate() }
        #expect(throws: KMTError.self) { try LogMelConfig(logFloor: 0).validate() }
    }
}

/// The double-precision power spectrum: its three methods (radix-2 FFT; mixed-radix FFT
/// for 6, 10, 14, 24, 30, 98, 210, 400; the DFT for 22 and 401) against a direct DFT.
@Suite struct PowerSpectrumTests {
    static func directPower(_ x: [Double]) -> [Double] {
        let n = x.count
        return (0...(n / 2)).map { k in
            var re = 0.0, im = 0.0
            for t in 0..<n {
                let angle = -2 * Double.pi * Double(k * t % n) / Double(n)
                re += x[t] * cos(angle)
                im += x[t] * sin(angle)
            }
            return re * re + im * im
        }
    }

    @Test(arguments: [2, 4, 8, 64, 512, 1024, 6, 10, 14, 24, 30, 98, 210, 400, 22, 401])
    func matchesADirectDFT(size: Int) {
        let spectrum = PowerSpectrum(size: size)
        // A loud tone plus a tiny one: the small bins are where precision matters.
        let x = (0..<size).map { t in
            sin(2 * Double.pi * 3.3 * Double(t) / Double(size)) + 1e-5 * cos(Double(t * t % 17))
        }
        let frames = min(3, spectrum.maximumFrames)
        let input = (0..<frames).flatMap { _ in x }
        var output = [Double](repeating: 0, count: frames * spectrum.binCount)
        var scratch = spectrum.makeScratch(frames: frames)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                spectrum.compute(i.baseAddress!, frames: frames, into: o.baseAddress!, scratch: &scratch)
            }
        }
        let expected = Self.directPower(x)
        let scale = expected.max()!
        for f in 0..<frames {
            for k in 0..<spectrum.binCount {
                let got = output[f * spectrum.binCount + k]
                #expect(abs(got - expected[k]) <= 1e-12 * scale, "n \(size) frame \(f) bin \(k): \(got) vs \(expected[k])")
            }
        }
    }

    /// Frames transformed together (four lanes, or the odd tail) give exactly the spectra
    /// of each frame alone: the lanes do the scalar path's operations in its order.
    @Test(arguments: [64, 512])
    func framesTogetherEqualFramesAlone(size: Int) {
        let spectrum = PowerSpectrum(size: size)
        #expect(spectrum.maximumFrames == 4)
        let frames = 4
        let input: [Double] = (0..<(frames * size)).map { i in
            let t = Double(i % size), f = Double(i / size)
            return sin(0.11 * (f + 1) * t) + 1e-4 * cos(t * t * 0.013 + f)
        }
        var single = [Double](repeating: 0, count: frames * spectrum.binCount)
        var scratch = spectrum.makeScratch(frames: 1)
        for f in 0..<frames {
            input.withUnsafeBufferPointer { i in
                single.withUnsafeMutableBufferPointer { o in
                    spectrum.compute(i.baseAddress! + f * size, frames: 1, into: o.baseAddress! + f * spectrum.binCount, scratch: &scratch)
                }
            }
        }
        for count in 2...frames {
            var together = [Double](repeating: 0, count: count * spectrum.binCount)
            var shared = spectrum.makeScratch(frames: frames)
            input.withUnsafeBufferPointer { i in
                together.withUnsafeMutableBufferPointer { o in
                    spectrum.compute(i.baseAddress!, frames: count, into: o.baseAddress!, scratch: &shared)
                }
            }
            #expect(together == Array(single[0..<(count * spectrum.binCount)]), "\(count) frames of \(size)")
        }
    }
}
