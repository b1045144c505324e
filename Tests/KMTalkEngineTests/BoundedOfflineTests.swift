import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Audio over `Session.boundedOfflineSeconds` is animated through the streaming network
/// block by block (memory bounded by the output): the same frames and phones as the
/// whole-utterance path, from PCM and from a file.
@Suite struct BoundedOfflineTests {
    /// `seconds` of a speech-like signal at `rate` Hz, `channels` interleaved.
    static func signal(seconds: Double, rate: Int, channels: Int = 1) -> [Float] {
        var state: UInt32 = 99
        return (0..<Int(seconds * Double(rate))).flatMap { index -> [Float] in
            state = state &* 1_664_525 &+ 1_013_904_223
            let t = Double(index) / Double(rate)
            let envelope = 0.5 + 0.5 * sin(2 * Double.pi * 2.7 * t) * sin(2 * Double.pi * 0.31 * t)
            let value = Float(0.3 * envelope * sin(2 * Double.pi * (140 + 40 * sin(t)) * t)) + Float(state >> 8) / Float(1 << 24) * 0.04 - 0.02
            return [Float](repeating: value, count: channels)
        }
    }

    @Test(arguments: [("kmtalk-tiny.safetensors", nil as Double?), ("kmtalk-tiny.safetensors", 30.0), ("kmtalk-nokeys.safetensors", nil)])
    func longAudioStreamsToTheWholeUtteranceResult(name: String, fps: Double?) throws {
        let model = try KMTalkModel(path: Fixtures.path(name))
        let session = Session(model: model, options: SessionOptions(threads: 1, outputFps: fps))
        let rate = 22_050
        let pcm = Self.signal(seconds: Session.boundedOfflineSeconds + 10, rate: rate, channels: 2)
        let bounded = try pcm.withUnsafeBufferPointer {
            try session.animate(pcm: $0.baseAddress!, frameCount: pcm.count / 2, sampleRate: rate, channels: 2)
        }
        #expect(session.lastTimings.map(\.stage) == ["resample+stream", "flush"])
        // The whole-utterance path on the same model-rate samples.
        let samples = try pcm.withUnsafeBufferPointer {
            try AudioDecoder.convert(samples: $0.baseAddress!, frameCount: pcm.count / 2, sampleRate: rate, channels: 2, targetRate: 16_000)
        }
        var clock = StageClock()
        let whole = try session.animate(samples: samples, source: nil, clock: &clock)
        #expect(bounded.values.shape == whole.values.shape)
        #expect(maxAbsError(bounded.values, whole.values) < 1e-4, "max difference \(maxAbsError(bounded.values, whole.values))")
        #expect(bounded.fps == whole.fps)
        #expect((bounded.phones == nil) == (whole.phones == nil))
        if let phones = bounded.phones, let expected = whole.phones {
            #expect(phones.segments.map(\.phone) == expected.segments.map(\.phone))
            #expect(phones.segments.count > 10)
        }
    }

    @Test func aLongFileStreamsAndAShortOneDoesNot() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let session = Session(model: model, options: SessionOptions(threads: 1))
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rate = 16_000
        let long = Self.signal(seconds: Session.boundedOfflineSeconds + 5, rate: rate)
        let path = directory.appendingPathComponent("long.wav").path
        #expect(AudioWriter.write(path: path, format: Int32(0x010000 | 0x0006), rate: rate, channels: 1, samples: long))
        let fromFile = try session.animate(path: path)
        #expect(session.lastTimings.map(\.stage) == ["decode+stream", "flush"])
        let fromPCM = try long.withUnsafeBufferPointer {
            try session.animate(pcm: $0.baseAddress!, frameCount: long.count, sampleRate: rate, channels: 1)
        }
        #expect(maxAbsError(fromFile.values, fromPCM.values) < 1e-6)
        #expect(fromFile.source == path && fromFile.phones?.segments.map(\.phone) == fromPCM.phones?.segments.map(\.phone))

        let short = Array(long.prefix(rate * 3))
        _ = try short.withUnsafeBufferPointer {
            try session.animate(pcm: $0.baseAddress!, frameCount: short.count, sampleRate: rate, channels: 1)
        }
        #expect(session.lastTimings.first?.stage == "resample")
    }
}
