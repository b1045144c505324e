import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// `kmt_sessions_push_f32` / `_s16`: many sessions pushed in one call (their network layers
/// run together) against each session pushed alone with `kmt_session_push_f32`.
@Suite struct BatchedStreamingTests {
    static let basePath = StreamingTests.basePath
    static let tinyPath = Fixtures.path("kmtalk-tiny.safetensors")

    /// A C-API session on `model` at `latency` (0: the model's default, KMT_LATENCY_EXACT,
    /// or milliseconds), on the calling thread, with `policy` for non-finite samples.
    static func session(_ model: OpaquePointer, latency: Double, policy: kmt_nonfinite_policy = KMT_NONFINITE_REJECT) throws -> OpaquePointer {
        var params = kmt_session_params()
        #expect(kmt_session_params_init(&params, MemoryLayout<kmt_session_params>.size) == KMT_OK)
        params.latency_ms = latency
        params.nonfinite_policy = policy
        var session: OpaquePointer?
        #expect(kmt_session_create(model, &params, &session) == KMT_OK)
        return try #require(session)
    }

    static func load(_ path: String) throws -> OpaquePointer {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(path, nil, &model) == KMT_OK)
        return try #require(model)
    }

    /// Every frame pending in `session` (`channels` floats each).
    static func pullAll(_ session: OpaquePointer, channels: Int) -> [Float] {
        var buffer = [Float](repeating: 0, count: channels * 32)
        var result: [Float] = []
        var frames = 0
        repeat {
            #expect(kmt_session_pull(session, &buffer, buffer.count, &frames, nil) == KMT_OK)
            result += buffer[0..<(frames * channels)]
        } while frames > 0
        return result
    }

    /// Whether `a` and `b` hold as many frames with values within `tolerance` (batched rows
    /// may take another matrix kernel than a row alone: float rounding).
    static func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    /// One stream's plan: its session's model, latency and the sizes of its blocks.
    struct Stream {
        let model: OpaquePointer
        let channels: Int
        let latency: Double
        let chunk: Int
    }

    /// Streams `audio` through each plan twice, alone and batched (one batched call per
    /// round pushes every stream's next block; streams whose audio ran out push 0 frames),
    /// flushes, and returns the frames of both runs.
    static func run(_ streams: [Stream], audio: [Float], rate: Int) throws -> (alone: [[Float]], batched: [[Float]]) {
        let alone = try streams.map { try session($0.model, latency: $0.latency) }
        let together = try streams.map { try session($0.model, latency: $0.latency) }
        defer { (alone + together).forEach { kmt_session_free($0) } }
        var outAlone = [[Float]](repeating: [], count: streams.count)
        var outBatched = [[Float]](repeating: [], count: streams.count)
        var offsets = [Int](repeating: 0, count: streams.count)
        while offsets.enumerated().contains(where: { $1 < audio.count }) {
            let counts = streams.enumerated().map { i, s in min(s.chunk, audio.count - offsets[i]) }
            var statuses = [kmt_status](repeating: KMT_ERR_INTERNAL, count: streams.count)
            let status = audio.withUnsafeBufferPointer { samples in
                let blocks: [UnsafePointer<Float>?] = offsets.map { samples.baseAddress! + min($0, audio.count) }
                let handles: [OpaquePointer?] = together
                return kmt_sessions_push_f32(handles, streams.count, blocks, counts, Int32(rate), 1, &statuses)
            }
            #expect(status == KMT_OK, "\(String(cString: kmt_last_error()))")
            #expect(statuses.allSatisfy { $0 == KMT_OK })
            for (i, s) in streams.enumerated() {
                let pushed = audio.withUnsafeBufferPointer {
                    kmt_session_push_f32(alone[i], $0.baseAddress! + min(offsets[i], audio.count), counts[i], Int32(rate), 1)
                }
                #expect(pushed == KMT_OK)
                outAlone[i] += pullAll(alone[i], channels: s.channels)
                outBatched[i] += pullAll(together[i], channels: s.channels)
                offsets[i] += counts[i]
            }
        }
        for (i, s) in streams.enumerated() {
            #expect(kmt_session_flush(alone[i]) == KMT_OK && kmt_session_flush(together[i]) == KMT_OK)
            outAlone[i] += pullAll(alone[i], channels: s.channels)
            outBatched[i] += pullAll(together[i], channels: s.channels)
        }
        return (outAlone, outBatched)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func batchedEqualsAloneAcrossLatenciesChunksAndModels() throws {
        let (audio, rate) = try StreamingTests.hello()
        let base = try Self.load(Self.basePath), tiny = try Self.load(Self.tinyPath)
        defer { kmt_model_free(base); kmt_model_free(tiny) }
        let baseChannels = try KMTalkModel(path: Self.basePath).config.motion.channels.count
        let tinyChannels = try KMTalkModel(path: Self.tinyPath).config.motion.channels.count
        // Two models, three latencies, blocks of 10 ms, odd sizes and half a second.
        let streams = [
            Stream(model: base, channels: baseChannels, latency: 0, chunk: 160),
            Stream(model: base, channels: baseChannels, latency: Double(KMT_LATENCY_EXACT), chunk: 160),
            Stream(model: base, channels: baseChannels, latency: 60, chunk: 333),
            Stream(model: tiny, channels: tinyChannels, latency: 0, chunk: 160),
            Stream(model: base, channels: baseChannels, latency: 0, chunk: 8_000),
            Stream(model: tiny, channels: tinyChannels, latency: Double(KMT_LATENCY_EXACT), chunk: 517),
        ]
        let (alone, batched) = try Self.run(streams, audio: audio, rate: rate)
        for i in streams.indices {
            #expect(alone[i].count == batched[i].count, "stream \(i): \(alone[i].count) vs \(batched[i].count) floats")
            #expect(alone[i].count > 0)
            // Bit for bit: every batched kernel computes a row independently of the rows
            // beside it (packed products, per-row norms, per-session attention, FFT lanes).
            let worst = zip(alone[i], batched[i]).map { abs($0 - $1) }.max() ?? 0
            #expect(alone[i].map(\.bitPattern) == batched[i].map(\.bitPattern),
                    "stream \(i): batched differs from alone by up to \(worst)")
        }
    }

    @Test func failingSessionLeavesTheOthersPushed() throws {
        let (audio, rate) = try StreamingTests.hello()
        let model = try Self.load(Self.tinyPath)
        defer { kmt_model_free(model) }
        let channels = try KMTalkModel(path: Self.tinyPath).config.motion.channels.count
        let sessions = try (0..<3).map { _ in try Self.session(model, latency: 0) }
        let reference = try Self.session(model, latency: 0)
        defer { (sessions + [reference]).forEach { kmt_session_free($0) } }
        var bad = Array(audio[0..<8_000])
        bad[100] = .nan
        let good = Array(audio[0..<8_000])
        var statuses = [kmt_status](repeating: KMT_OK, count: 3)
        let status = good.withUnsafeBufferPointer { g in
            bad.withUnsafeBufferPointer { b in
                let blocks: [UnsafePointer<Float>?] = [g.baseAddress, b.baseAddress, g.baseAddress]
                let handles: [OpaquePointer?] = sessions
                return kmt_sessions_push_f32(handles, 3, blocks, [8_000, 8_000, 8_000], Int32(rate), 1, &statuses)
            }
        }
        #expect(status == KMT_ERR_INVALID_AUDIO)
        #expect(statuses == [KMT_OK, KMT_ERR_INVALID_AUDIO, KMT_OK])
        #expect(String(cString: kmt_last_error()).hasPrefix("sessions[1]: "))
        #expect(kmt_session_push_f32(reference, good, 8_000, Int32(rate), 1) == KMT_OK)
        let expected = Self.pullAll(reference, channels: channels)
        #expect(!expected.isEmpty)
        let first = Self.pullAll(sessions[0], channels: channels), third = Self.pullAll(sessions[2], channels: channels)
        #expect(Self.close(first, expected) && Self.close(third, expected))
        // The failed chunk was dropped; that stream goes on.
        #expect(Self.pullAll(sessions[1], channels: channels).isEmpty)
        let again = good.withUnsafeBufferPointer { g in
            kmt_sessions_push_f32([sessions[1]], 1, [g.baseAddress], [8_000], Int32(rate), 1, nil)
        }
        #expect(again == KMT_OK)
        let resumed = Self.pullAll(sessions[1], channels: channels)
        #expect(Self.close(resumed, expected))
    }

    @Test func invalidArgumentsPushNothing() throws {
        let model = try Self.load(Self.tinyPath)
        defer { kmt_model_free(model) }
        let a = try Self.session(model, latency: 0), b = try Self.session(model, latency: 0)
        defer { kmt_session_free(a); kmt_session_free(b) }
        let samples = UnsafeMutablePointer<Float>.allocate(capacity: 480)
        samples.initialize(repeating: 0.1, count: 480)
        defer { samples.deallocate() }
        let block: UnsafePointer<Float>? = UnsafePointer(samples)
        var statuses = [kmt_status](repeating: KMT_OK, count: 2)
        func pending(_ s: OpaquePointer) -> Int {
            var n = 0
            #expect(kmt_session_pending_frames(s, &n) == KMT_OK)
            return n
        }
        // Nothing to do.
        #expect(kmt_sessions_push_f32(nil, 0, nil, nil, 16_000, 1, nil) == KMT_OK)
        // Missing arrays.
        #expect(kmt_sessions_push_f32(nil, 2, [block, block], [480, 480], 16_000, 1, &statuses) == KMT_ERR_INVALID_ARGUMENT)
        #expect(statuses == [KMT_ERR_INVALID_ARGUMENT, KMT_ERR_INVALID_ARGUMENT])
        #expect(String(cString: kmt_last_error()).contains("sessions is NULL"))
        #expect(kmt_sessions_push_f32([a, b], 2, nil, [480, 480], 16_000, 1, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_sessions_push_f32([a, b], 2, [block, block], nil, 16_000, 1, nil) == KMT_ERR_INVALID_ARGUMENT)
        // A session listed twice, a NULL session, a NULL block with frames.
        #expect(kmt_sessions_push_f32([a, a], 2, [block, block], [480, 480], 16_000, 1, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: kmt_last_error()).contains("sessions[1] is listed twice"))
        #expect(kmt_sessions_push_f32([a, nil], 2, [block, block], [480, 480], 16_000, 1, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_sessions_push_f32([a, b], 2, [block, nil], [480, 480], 16_000, 1, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: kmt_last_error()).contains("pcm[1] is NULL"))
        // Bad rate and channel count.
        #expect(kmt_sessions_push_f32([a, b], 2, [block, block], [480, 480], 4_000, 1, nil) == KMT_ERR_INVALID_AUDIO)
        #expect(kmt_sessions_push_f32([a, b], 2, [block, block], [480, 480], 16_000, 0, nil) == KMT_ERR_INVALID_ARGUMENT)
        // None of these fixed the sessions' rate: a first push at 48 kHz is accepted.
        #expect(pending(a) == 0 && pending(b) == 0)
        #expect(kmt_sessions_push_f32([a, b], 2, [block, block], [480, 480], 48_000, 1, &statuses) == KMT_OK)
        #expect(statuses == [KMT_OK, KMT_OK])
        // A later batch at another rate fails for every session that has one fixed.
        #expect(kmt_sessions_push_f32([a, b], 2, [block, block], [480, 480], 16_000, 1, &statuses) == KMT_ERR_INVALID_ARGUMENT)
        #expect(statuses == [KMT_ERR_INVALID_ARGUMENT, KMT_ERR_INVALID_ARGUMENT])
    }

    @Test func sixteenBitBlocksEqualTheirFloatValues() throws {
        let (audio, rate) = try StreamingTests.hello()
        let model = try Self.load(Self.tinyPath)
        defer { kmt_model_free(model) }
        let channels = try KMTalkModel(path: Self.tinyPath).config.motion.channels.count
        let s16 = audio.prefix(8_000).map { Int16(max(-32_768, min(32_767, ($0 * 32_768).rounded()))) }
        let f32 = s16.map { Float($0) / 32_768 }
        let a = try Self.session(model, latency: 0), b = try Self.session(model, latency: 0)
        defer { kmt_session_free(a); kmt_session_free(b) }
        let pushedS16 = s16.withUnsafeBufferPointer { kmt_sessions_push_s16([a], 1, [$0.baseAddress], [s16.count], Int32(rate), 1, nil) }
        let pushedF32 = f32.withUnsafeBufferPointer { kmt_sessions_push_f32([b], 1, [$0.baseAddress], [f32.count], Int32(rate), 1, nil) }
        #expect(pushedS16 == KMT_OK && pushedF32 == KMT_OK)
        #expect(kmt_session_flush(a) == KMT_OK && kmt_session_flush(b) == KMT_OK)
        let got = Self.pullAll(a, channels: channels)
        let want = Self.pullAll(b, channels: channels)
        #expect(!got.isEmpty && got == want)
    }
}
