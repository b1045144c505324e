import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Streaming (push PCM, pull final frames) against the offline path on the same audio.
@Suite struct StreamingTests {
    static let basePath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path
    static let audioPath = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
    static let modelPaths = [
        basePath, Fixtures.path("kmtalk-tiny.safetensors"), Fixtures.path("kmtalk-nokeys.safetensors"),
        Fixtures.path("kmtalk-shallow.safetensors"), Fixtures.path("kmtalk-loudness.safetensors"),
    ]

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

    /// A session at the model's full look-ahead, where streaming equals the offline path.
    static func exactSession(_ model: KMTalkModel, fps: Double? = nil) throws -> StreamingSession {
        let session = try StreamingSession(model: model, options: SessionOptions(threads: 1, outputFps: fps))
        try session.setLatency(ms: session.fullLatencyMs)
        #expect(session.requestedLatencyMs == nil && session.latencyMs == session.fullLatencyMs)
        return session
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
            let session = try Self.exactSession(model)
            let streamed = try Self.stream(session, samples, rate: rate) {
                chunk > 0 ? chunk : Int(generator.next() % 2_000) + 1
            }
            let error = maxAbsError(streamed, expected)
            print("streaming \(path.split(separator: "/").last!) chunk \(chunk): \(streamed.shape[0]) frames, max diff \(error)")
            #expect(streamed.shape == expected.shape)
            #expect(error < 1e-3, "\(path) chunk \(chunk): max abs diff \(error)")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func oneSampleChunksMatchOffline() throws {
        let (samples, rate) = try Self.hello()
        let excerpt = Array(samples[0..<24_000])
        let model = try KMTalkModel(path: Self.basePath)
        let expected = try Self.offline(model, excerpt, rate: rate)
        let streamed = try Self.stream(try Self.exactSession(model), excerpt, rate: rate) { 1 }
        let error = maxAbsError(streamed, expected)
        print("streaming 1-sample chunks: \(streamed.shape[0]) frames, max diff \(error)")
        #expect(streamed.shape == expected.shape)
        #expect(error < 1e-3)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func int16PushesMatchOffline() throws {
        let (samples, rate) = try Self.hello()
        let pcm = samples.map { Int16(max(-32_768, min(32_767, ($0 * 32_768).rounded()))) }
        let model = try KMTalkModel(path: Self.basePath)
        let expected = try Self.offline(model, pcm.map { Float($0) / 32_768 }, rate: rate)
        let session = try Self.exactSession(model)
        var frames: [Float] = []
        for start in stride(from: 0, to: pcm.count, by: 160) {
            try pcm.withUnsafeBufferPointer {
                try session.push($0.baseAddress! + start, frameCount: min(160, pcm.count - start), sampleRate: rate, channels: 1)
            }
            frames += session.pullAll().data
        }
        try session.flush()
        frames += session.pullAll().data
        let streamed = Tensor(shape: [frames.count / session.channelCount, session.channelCount], data: frames)
        let error = maxAbsError(streamed, expected)
        print("streaming int16 10 ms: max diff \(error)")
        #expect(error < 1e-3)
    }

    /// 44.1 kHz stereo goes through libsoxr in 10 ms blocks; offline, in one call.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func resampledStereoMatchesOffline() throws {
        let (samples, _) = try Self.hello()
        let rate = 44_100, frames = samples.count * rate / 16_000
        var stereo = [Float](repeating: 0, count: frames * 2)
        for i in 0..<frames {
            let position = Double(i) * 16_000 / Double(rate)
            let lower = min(Int(position), samples.count - 1), upper = min(lower + 1, samples.count - 1)
            let value = samples[lower] + (samples[upper] - samples[lower]) * Float(position - Double(lower))
            stereo[2 * i] = value
            stereo[2 * i + 1] = 0.5 * value
        }
        let model = try KMTalkModel(path: Self.basePath)
        let expected = try Self.offline(model, stereo, rate: rate, channels: 2)
        let streamed = try Self.stream(
            try Self.exactSession(model), stereo, rate: rate, channels: 2) { 441 }
        let error = maxAbsError(streamed, expected)
        print("streaming 44.1 kHz stereo 10 ms: \(streamed.shape[0]) frames, max diff \(error)")
        #expect(streamed.shape == expected.shape)
        #expect(error < 1e-3)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func sixtyFpsOutputMatchesOffline() throws {
        let (samples, rate) = try Self.hello()
        let model = try KMTalkModel(path: Self.basePath)
        let expected = try Self.offline(model, samples, rate: rate, fps: 60)
        let session = try Self.exactSession(model, fps: 60)
        #expect(session.outputFps == 60)
        let streamed = try Self.stream(session, samples, rate: rate) { 592 }
        let error = maxAbsError(streamed, expected)
        print("streaming 60 fps 37 ms: \(streamed.shape[0]) frames, max diff \(error)")
        #expect(streamed.shape == expected.shape)
        #expect(error < 1e-3)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func silenceStaysAtRest() throws {
        let model = try KMTalkModel(path: Self.basePath)
        let silence = [Float](repeating: 0, count: 48_000)
        let expected = try Self.offline(model, silence, rate: 16_000)
        let streamed = try Self.stream(try StreamingSession(model: model, options: SessionOptions(threads: 1)), silence, rate: 16_000) { 160 }
        #expect(maxAbsError(streamed, expected) < 1e-3)
        let jaw = ARKitChannels.names.firstIndex(of: "jawOpen")!
        let jawMax = (0..<streamed.shape[0]).map { streamed.data[$0 * streamed.shape[1] + jaw] }.max()!
        print("streaming silence: max jawOpen \(jawMax)")
        #expect(jawMax < 0.05)
    }

    @Test func resetGivesIdenticalResults() throws {
        let (samples, rate) = try Self.hello()
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let session = try StreamingSession(model: model, options: SessionOptions(threads: 1))
        let first = try Self.stream(session, samples, rate: rate) { 160 }
        // Reset mid-utterance too: nothing of the abandoned stream leaks into the next.
        session.reset()
        try samples.withUnsafeBufferPointer { try session.push($0.baseAddress!, frameCount: 5_000, sampleRate: rate, channels: 1) }
        session.reset()
        let second = try Self.stream(session, samples, rate: rate) { 160 }
        #expect(first.shape == second.shape)
        #expect(first.data == second.data)
    }

    /// Ten minutes of synthetic speech-like audio in 10 ms chunks: the buffers stop growing
    /// after the first seconds (each stage keeps only what its band can still see).
    @Test func memoryStaysBounded() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let session = try StreamingSession(model: model, options: SessionOptions(threads: 1))
        var generator = SeededGenerator(seed: 3)
        var chunk = [Float](repeating: 0, count: 160)
        var largest = (samples: 0, rows: 0, keyTokens: 0, nativeFloats: 0)
        var early = largest
        var frames = 0
        for index in 0..<60_000 {
            if index == 1_000 { early = largest }
            let voiced = (index / 25) % 3 != 0
            for i in 0..<160 {
                let noise = Float(generator.next() % 2_000) / 2_000 - 0.5
                chunk[i] = voiced ? 0.3 * sinf(Float(index * 160 + i) * 0.07) + 0.05 * noise : 0.01 * noise
            }
            try chunk.withUnsafeBufferPointer { try session.push($0.baseAddress!, frameCount: 160, sampleRate: 16_000, channels: 1) }
            frames += session.pullAll().shape[0]
            let sizes = session.bufferSizes
            largest = (
                max(largest.samples, sizes.samples), max(largest.rows, sizes.rows), max(largest.keyTokens, sizes.keyTokens),
                max(largest.nativeFloats, sizes.nativeFloats))
        }
        print("streaming 600 s: largest buffers \(largest) (after 10 s: \(early)), \(frames) frames")
        #expect(frames > 29_950)
        #expect(largest.samples <= early.samples + 16_000 / 100)
        #expect(largest.samples < 4_000)
        #expect(largest.rows <= early.rows + 4)
        #expect(largest.rows < 400)
        #expect(largest.keyTokens < 64)
        #expect(largest.nativeFloats == 0)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func eightThreadsMatchSingleThreaded() throws {
        let (samples, rate) = try Self.hello()
        let model = try KMTalkModel(path: Self.basePath)
        let chunks = [160, 37, 592, 1_000, 441, 2_048, 1, 9_999]
        let excerpt = Array(samples[0..<32_000])
        let reference = try chunks.map { chunk in
            try Self.stream(try StreamingSession(model: model, options: SessionOptions(threads: 1)), excerpt, rate: rate) { chunk }
        }
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Tensor?>.allocate(capacity: chunks.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: chunks.count) { index in
            results[index] = try? Self.stream(
                try! StreamingSession(model: model, options: SessionOptions(threads: 1)), excerpt, rate: rate) { chunks[index] }
        }
        for index in 0..<chunks.count {
            let result = try #require(results[index])
            #expect(result.shape == reference[index].shape)
            #expect(maxAbsError(result, reference[index]) < 1e-5, "thread \(index)")
        }
    }

    /// The tiny model with its encoder switched to full attention (band_back null).
    @Test func fullAttentionCannotStream() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("kmtalk-tiny.safetensors")))
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        var metadata = header["__metadata__"] as! [String: String]
        var config = try JSONSerialization.jsonObject(with: Data(metadata["config"]!.utf8)) as! [String: Any]
        var encoder = config["encoder"] as! [String: Any]
        encoder["band_back"] = NSNull()
        encoder["band_ahead"] = NSNull()
        config["encoder"] = encoder
        metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        header["__metadata__"] = metadata
        let newHeader = try JSONSerialization.data(withJSONObject: header)
        var file = Data()
        withUnsafeBytes(of: UInt64(newHeader.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(newHeader)
        file.append(bytes.subdata(in: (8 + headerLength)..<bytes.count))
        let model = try file.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "full-attention") }
        #expect(model.config.encoder.band == nil)
        #expect(throws: KMTError.self) { try StreamingSession(model: model, options: SessionOptions()) }
        let session = Session(model: model, options: SessionOptions())
        let handle = Handle.retain(session)
        defer { Handle.release(handle, as: Session.self) }
        var pcm = [Float](repeating: 0, count: 160)
        #expect(kmt_session_push_f32(handle, &pcm, 160, 16_000, 1) == KMT_ERR_INCOMPATIBLE_MODEL)
        #expect(String(cString: kmt_last_error()).contains("cannot stream"))
        var latency = -1.0, exact = -1.0
        #expect(kmt_session_latency_ms(handle, &latency) == KMT_ERR_INCOMPATIBLE_MODEL)
        #expect(kmt_session_exact_latency_ms(handle, &exact) == KMT_ERR_INCOMPATIBLE_MODEL)
        #expect(latency == 0 && exact == 0)
        #expect(String(cString: kmt_last_error()).contains("cannot stream"))
        #expect(got(0) { kmt_session_output_fps(handle, $0) } == model.config.motion.fps)
    }

    @Test func cAPIStatuses() throws {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.path("kmtalk-tiny.safetensors"), nil, &model) == KMT_OK)
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        var pcm = [Float](repeating: 0, count: 3_200)
        var frames = 0, time = -1.0
        var buffer = [Float](repeating: 0, count: 4_096)
        // NULL arguments.
        #expect(kmt_session_push_f32(nil, &pcm, 160, 16_000, 1) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_push_f32(session, nil, 160, 16_000, 1) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_push_s16(nil, nil, 0, 16_000, 1) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_push_f32(session, &pcm, 160, 16_000, 0) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_push_f32(session, &pcm, 160, 4_000, 1) == KMT_ERR_INVALID_AUDIO)
        #expect(kmt_session_pull(nil, &buffer, buffer.count, &frames, &time) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_pull(session, &buffer, buffer.count, nil, &time) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_pull(session, nil, 100, &frames, &time) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_flush(nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_reset(nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_pending_frames(nil, &frames) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_pending_frames(session, nil) == KMT_ERR_INVALID_ARGUMENT)
        var ms = -1.0
        #expect(kmt_session_latency_ms(nil, &ms) == KMT_ERR_INVALID_ARGUMENT && ms == 0)
        #expect(kmt_session_output_fps(nil, &ms) == KMT_ERR_INVALID_ARGUMENT && ms == 0)
        #expect(kmt_session_exact_latency_ms(nil, &ms) == KMT_ERR_INVALID_ARGUMENT && ms == 0)
        #expect(got(0) { kmt_session_output_fps(session, $0) } == 50)
        let latency = got(0) { kmt_session_latency_ms(session, $0) }, exact = got(0) { kmt_session_exact_latency_ms(session, $0) }
        #expect(latency == min(150, exact), "default latency \(latency), exact \(exact)")
        #expect(kmt_session_set_latency_ms(nil, 100) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_set_latency_ms(session, 1) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_set_latency_ms(session, .nan) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_set_latency_ms(session, 120) == KMT_OK)
        #expect(got(0) { kmt_session_latency_ms(session, $0) } == 120)
        #expect(kmt_session_set_latency_ms(session, 10_000) == KMT_OK)
        #expect(got(0) { kmt_session_latency_ms(session, $0) } == exact)
        // Pull before any push: nothing final yet, not an error.
        #expect(kmt_session_pull(session, &buffer, buffer.count, &frames, &time) == KMT_OK)
        #expect(frames == 0)
        // Streaming: 1 s of audio, then a rate change is refused.
        for start in stride(from: 0, to: 16_000, by: 3_200) {
            _ = start
            #expect(kmt_session_push_f32(session, &pcm, 3_200, 16_000, 1) == KMT_OK, "\(String(cString: kmt_last_error()))")
        }
        #expect(kmt_session_push_f32(session, &pcm, 160, 48_000, 1) == KMT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: kmt_last_error()).contains("fixed by its first push"))
        #expect(kmt_session_set_latency_ms(session, 100) == KMT_ERR_INVALID_ARGUMENT)
        var pending = 0
        #expect(kmt_session_pending_frames(session, &pending) == KMT_OK)
        #expect(pending > 30)
        // A buffer for 2 frames gets 2, then the rest follow in order.
        let channels = got(0) { kmt_model_channel_count(model, $0) }
        #expect(kmt_session_pull(session, &buffer, 2 * channels + 1, &frames, &time) == KMT_OK)
        #expect(frames == 2 && time == 0)
        #expect(kmt_session_pull(session, &buffer, buffer.count, &frames, &time) == KMT_OK)
        #expect(time == 2.0 / 50)
        #expect(kmt_session_flush(session) == KMT_OK)
        #expect(kmt_session_pull(session, &buffer, buffer.count, &frames, &time) == KMT_OK)
        // Push after flush without reset.
        #expect(kmt_session_push_f32(session, &pcm, 160, 16_000, 1) == KMT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: kmt_last_error()).contains("kmt_session_reset"))
        #expect(kmt_session_reset(session) == KMT_OK)
        var s16 = [Int16](repeating: 0, count: 882)
        #expect(kmt_session_push_s16(session, &s16, 0, 44_100, 2) == KMT_OK)
        #expect(kmt_session_push_f32(session, &pcm, 0, 44_100, 2) == KMT_OK)
        #expect(kmt_session_push_s16(session, &s16, 441, 44_100, 2) == KMT_OK)
        #expect(kmt_session_push_s16(session, &s16, 441, 44_100, 1) == KMT_ERR_INVALID_ARGUMENT)
    }

    /// Below the full look-ahead, frames come out `latency` after their time (computed as if
    /// the audio ended there): same count as offline, bounded error, on time.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func reducedLatencyEmitsOnTime() throws {
        let (samples, rate) = try Self.hello()
        let model = try KMTalkModel(path: Self.basePath)
        let expected = try Self.offline(model, samples, rate: rate)
        let session = try StreamingSession(model: model, options: SessionOptions(threads: 1))
        #expect(session.latencyMs == 150)  // the default, below the full look-ahead
        #expect(abs(session.fullLatencyMs - 296) < 1e-9)
        let at60 = try StreamingSession(model: model, options: SessionOptions(threads: 1, outputFps: 60))
        #expect(at60.latencyMs == 150 && abs(at60.fullLatencyMs - 316) < 1e-9)
        try session.setLatency(ms: 1_000)
        #expect(session.requestedLatencyMs == nil && session.latencyMs == session.fullLatencyMs)
        #expect(throws: KMTError.self) { try session.setLatency(ms: 5) }
        for latency in [200.0, 150, 100, 60] {
            session.reset()
            try session.setLatency(ms: latency)
            #expect(session.latencyMs == latency)
            var frames: [Float] = []
            for start in stride(from: 0, to: samples.count, by: 160) {
                let count = min(160, samples.count - start)
                try samples.withUnsafeBufferPointer { try session.push($0.baseAddress! + start, frameCount: count, sampleRate: rate, channels: 1) }
                frames += session.pullAll().data
                let heard = start + count - Int(latency * 16)
                let due = heard >= 0 ? heard / 320 + 1 : 0
                #expect(frames.count / session.channelCount >= min(due, expected.shape[0]), "latency \(latency) at sample \(start + count)")
            }
            #expect(throws: KMTError.self) { try session.setLatency(ms: 100) }
            try session.flush()
            frames += session.pullAll().data
            let streamed = Tensor(shape: [frames.count / session.channelCount, session.channelCount], data: frames)
            #expect(streamed.shape == expected.shape)
            let error = maxAbsError(streamed, expected)
            var sum: Float = 0
            for (a, b) in zip(streamed.data, expected.data) { sum += abs(a - b) }
            print("streaming latency \(latency) ms: max diff \(error), mean \(sum / Float(max(1, expected.count)))")
            #expect(error < 1, "latency \(latency)")
            if latency == StreamingSession.defaultLatencyMs {  // measured 0.004, mean ~1e-5
                #expect(error < 0.05 && sum / Float(expected.count) < 1e-3, "default latency: max diff \(error)")
            }
            #expect(streamed.data.allSatisfy { $0.isFinite })
        }
    }
}
