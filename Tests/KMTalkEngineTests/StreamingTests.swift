import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Streaming (push PCM, pull final frames) against the offline path on the same audio.
@Suite struct StreamingTests {
    static let basePath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path
    static let audioPath = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
    static let modelPaths = [basePath, Fixtures.path("kmtalk-tiny.safetensors"), Fixtures.path("kmtalk-nokeys.safetensors")]

    /// hello.wav as float samples at its own rate (16 kHz mono).
    static func hello() throws -> (samples: [Float], rate: Int) {
        let decoded = try AudioDecoder.decode(path: audioPath, targetRate: 16_000)
        #expect(decoded.sourceRate == 16_000 && decoded.sourceChannels == 1)
        return (decoded.samples, decoded.sourceRate)
    }

    static func offline(_ model: KMTalkModel, _ pcm: [Float], rate: Int, channels: Int = 1, fps: Double? = nil) throws -> Tensor {
        let session = Session(model: model, options: SessionOptions(threads: 1, outputFps: fps))
        return try pcm.withUnsafeBufferPointer {
            try session.animate(pcm: $0.baseAddress!, frameCount: pcm.count / channels, sampleRate: rate, channels: channels).values
        }
    }

    /// Streams `pcm` in chunks of `chunk()` frames, pulling after every push.
    static func stream(
        _ session: StreamingSession, _ pcm: [Float], rate: Int, channels: Int = 1, chunk: () -> Int
    ) throws -> Tensor {
        var frames: [Float] = []
        var offset = 0, total = pcm.count / channels
        while offset < total {
            let count = min(chunk(), total - offset)
            try pcm.withUnsafeBufferPointer {
                try session.push($0.baseAddress! + offset * channels, frameCount: count, sampleRate: rate, channels: channels)
            }
            frames += session.pullAll().data
            offset += count
        }
        try session.flush()
        frames += session.pullAll().data
        total = frames.count / session.channelCount
        return Tensor(shape: [total, session.channelCount], data: frames)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)), arguments: [160, 592, 0])
    func matchesOfflineForEveryModel(chunk: Int) throws {
        let (samples, rate) = try Self.hello()
        for path in Self.modelPaths {
            let model = try KMTalkModel(path: path)
            let expected = try Self.offline(model, samples, rate: rate)
            var generator = SeededGenerator(seed: 7)
            let session = try StreamingSession(model: model, options: SessionOptions(threads: 1))
            let streamed = try Self.stream(session, samples, rate: rate) {
                chunk > 0 ? chunk : Int(generator.next() % 2_000) + 1
            }
            let error = maxAbsError(streamed, expected)
            print("streaming \(path.split(separator: "/").last!) chunk \(chunk): \(streamed.shape[0]) frames, max diff \(error)")
            #expect(streamed.shape == expected.shape)
            #expect(error < 1e-3, "\(path) chunk \(chunk): max abs diff \(error)")
        }
    }
}
