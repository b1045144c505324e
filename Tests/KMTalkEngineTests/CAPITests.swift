import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The exported C functions, called exactly as a C host calls them.
@Suite struct CAPITests {
    var lastError: String { String(cString: kmt_last_error()) }

    func loadTinyModel() throws -> OpaquePointer {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        return try #require(model)
    }

    func writeWav(_ samples: [Float], rate: Int, channels: Int) throws -> (URL, String) {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("speech.wav").path
        #expect(AudioWriter.write(path: path, format: Int32(0x010000 | 0x0006), rate: rate, channels: channels, samples: samples))
        return (directory, path)
    }

    @Test func versionAndStatusStrings() {
        #expect(String(cString: kmt_version()) == KMT_VERSION_STRING)
        #expect(kmt_version_number() == Int32(KMT_VERSION_MAJOR * 10000 + KMT_VERSION_MINOR * 100 + KMT_VERSION_PATCH))
        #expect(String(cString: kmt_status_string(KMT_OK)) == "ok")
        #expect(String(cString: kmt_status_string(KMT_ERR_CORRUPT_MODEL)) == "corrupt model")
        #expect(String(cString: kmt_status_string(KMT_ERR_INTERNAL)) == "internal error")
        #expect(String(cString: kmt_status_string(kmt_status(rawValue: 999))) == "unknown status")
    }

    @Test func modelLoadsFromFileAndMemoryWithTheSameAnswers() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        #expect(gotString { kmt_model_architecture(model, $0) } == "kmtalk-direct")
        #expect(gotString { kmt_model_motion_space(model, $0) } == "arkit")
        #expect(got(0) { kmt_model_sample_rate(model, $0) } == 16_000)
        #expect(got(0) { kmt_model_fps(model, $0) } == 50)
        #expect(got(0) { kmt_model_channel_count(model, $0) } == 52)
        #expect(gotString { kmt_model_channel_name(model, 17, $0) } == "jawOpen")
        var name = UnsafePointer<CChar>(bitPattern: 0xdead)
        #expect(kmt_model_channel_name(model, 52, &name) == KMT_ERR_INVALID_ARGUMENT)
        #expect(name == nil)
        #expect(lastError == "channel index 52 is not below the channel count 52")
        #expect(got(0) { kmt_model_parameter_count(model, $0) } > 10_000)

        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModelPath)))
        var fromMemory: OpaquePointer?
        var params: kmt_model_params = initialized(kmt_model_params_init)
        #expect(params.struct_size == MemoryLayout<kmt_model_params>.size)
        #expect(kmt_model_load_memory(bytes, bytes.count, &params, &fromMemory) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(fromMemory) }
        #expect(got(0) { kmt_model_parameter_count(fromMemory, $0) } == got(0) { kmt_model_parameter_count(model, $0) })
    }

    @Test func metadataUsesCallerBuffers() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        var length = 0
        #expect(kmt_model_metadata(model, "format", nil, 0, &length) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(length == 6)
        var small = [CChar](repeating: 1, count: 6)
        #expect(kmt_model_metadata(model, "format", &small, 6, &length) == KMT_ERR_BUFFER_TOO_SMALL)
        var buffer = [CChar](repeating: 1, count: 7)
        #expect(kmt_model_metadata(model, "format", &buffer, 7, &length) == KMT_OK)
        #expect(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } == "kmtalk")
        #expect(kmt_model_metadata(model, "no-such-key", &buffer, 7, &length) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("no-such-key"))
        #expect(kmt_model_metadata(nil, "format", &buffer, 7, &length) == KMT_ERR_INVALID_ARGUMENT)
    }

    @Test func animatesAFileAndReadsFramesIntoCallerBuffers() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        var params: kmt_session_params = initialized(kmt_session_params_init)
        params.n_threads = 1
        params.output_fps = 60
        var session: OpaquePointer?
        #expect(kmt_session_create(model, &params, &session) == KMT_OK, "\(lastError)")
        defer { kmt_session_free(session) }

        let rate = 44_100
        let samples = AudioWriter.sine(frequency: 220, rate: rate, channels: 2, seconds: 2)
        let (directory, path) = try writeWav(samples, rate: rate, channels: 2)
        defer { try? FileManager.default.removeItem(at: directory) }
        var animation: OpaquePointer?
        #expect(kmt_animate_file(session, path, &animation) == KMT_OK, "\(lastError)")
        defer { kmt_animation_free(animation) }
        #expect(got(0) { kmt_animation_fps(animation, $0) } == 60)
        #expect(got(0) { kmt_animation_frame_count(animation, $0) } == 121)
        #expect(got(0) { kmt_animation_channel_count(animation, $0) } == 52)
        #expect(gotString { kmt_animation_channel_name(animation, 0, $0) } == "eyeBlinkLeft")
        var name: UnsafePointer<CChar>?
        #expect(kmt_animation_channel_name(animation, 52, &name) == KMT_ERR_INVALID_ARGUMENT)
        #expect(name == nil && lastError == "channel index 52 is not below the channel count 52")

        var written = 0
        #expect(kmt_animation_read_frames(animation, 0, 121, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 121 * 52)
        var all = [Float](repeating: -1, count: 121 * 52)
        #expect(kmt_animation_read_frames(animation, 0, 121, &all, all.count, &written) == KMT_OK)
        #expect(all.allSatisfy { $0 >= 0 && $0 <= 1 })
        var part = [Float](repeating: -1, count: 2 * 52)
        #expect(kmt_animation_read_frames(animation, 10, 2, &part, part.count, nil) == KMT_OK)
        #expect(Array(all[(10 * 52)..<(12 * 52)]) == part)
        #expect(kmt_animation_read_frames(animation, 120, 2, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_read_frames(animation, Int.max, 2, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        // (size_t)-1 style values from C must be rejected, not read from.
        #expect(kmt_animation_read_frames(animation, -1, 2, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_read_frames(animation, 0, -1, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_read_frames(animation, 0, 0, nil, 0, &written) == KMT_OK)
        // A buffer_length of SIZE_MAX (the caller vouches for the room) reads as any large one.
        #expect(kmt_animation_read_frames(animation, 10, 2, &part, -1, nil) == KMT_OK)
        #expect(Array(all[(10 * 52)..<(12 * 52)]) == part)

        // The same audio as PCM gives the same animation.
        var fromPCM: OpaquePointer?
        #expect(kmt_animate_pcm(session, samples, samples.count / 2, Int32(rate), 2, &fromPCM) == KMT_OK, "\(lastError)")
        defer { kmt_animation_free(fromPCM) }
        var pcmFrames = [Float](repeating: -1, count: 121 * 52)
        #expect(kmt_animation_read_frames(fromPCM, 0, 121, &pcmFrames, pcmFrames.count, nil) == KMT_OK)
        #expect(zip(all, pcmFrames).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func nullArgumentsAreRejectedAndOutParametersCleared() throws {
        var model: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        #expect(kmt_model_load_file(nil, nil, &model) == KMT_ERR_INVALID_ARGUMENT)
        #expect(model == nil)
        #expect(lastError == "path is NULL")
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_model_load_memory(nil, 10, nil, &model) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_model_load_memory([1, 2, 3], -1, nil, &model) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_model_load_memory([1, 2, 3], 3, nil, &model) == KMT_ERR_CORRUPT_MODEL)
        var session: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        #expect(kmt_session_create(nil, nil, &session) == KMT_ERR_INVALID_ARGUMENT)
        #expect(session == nil)
        var animation: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        #expect(kmt_animate_file(nil, "x.wav", &animation) == KMT_ERR_INVALID_ARGUMENT)
        #expect(animation == nil)
        #expect(kmt_animate_pcm(nil, nil, 10, 16_000, 1, &animation) == KMT_ERR_INVALID_ARGUMENT)
        // Free functions accept NULL; getters refuse it (CAPIGetterTests checks them all).
        kmt_model_free(nil)
        kmt_session_free(nil)
        kmt_animation_free(nil)
        var count = 7
        #expect(kmt_model_channel_count(nil, &count) == KMT_ERR_INVALID_ARGUMENT)
        #expect(count == 0 && lastError == "model is NULL")
        #expect(kmt_animation_frame_count(nil, &count) == KMT_ERR_INVALID_ARGUMENT)
        #expect(count == 0 && lastError == "animation is NULL")
        #expect(kmt_animation_read_frames(nil, 0, 0, nil, 0, nil) == KMT_ERR_INVALID_ARGUMENT)

        let realModel = try loadTinyModel()
        defer { kmt_model_free(realModel) }
        #expect(kmt_session_create(realModel, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        #expect(kmt_animate_file(session, nil, &animation) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animate_pcm(session, nil, 10, 16_000, 1, &animation) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animate_pcm(session, [0.1], 1, 16_000, 0, &animation) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animate_pcm(session, [0.1], 0, 16_000, 1, &animation) == KMT_ERR_INVALID_AUDIO)
        #expect(kmt_animate_pcm(session, [0.1], 1, 4_000, 1, &animation) == KMT_ERR_INVALID_AUDIO)
        #expect(lastError.contains("4000 Hz"))
        #expect(kmt_animate_pcm(session, [0.1], Int.max, 16_000, 4, &animation) == KMT_ERR_OUT_OF_MEMORY)
        #expect(kmt_animate_pcm(session, [0.1], -1, 16_000, 1, &animation) == KMT_ERR_OUT_OF_MEMORY)
        #expect(kmt_animate_file(session, "/nonexistent/speech.wav", &animation) == KMT_ERR_IO)
        #expect(lastError.hasPrefix("/nonexistent/speech.wav: "))
    }

    @Test func parameterStructsAreValidatedAndCanGrow() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        var params: kmt_session_params = initialized(kmt_session_params_init)
        params.output_fps = 500
        #expect(kmt_session_create(model, &params, &session) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("output_fps"))
        params = initialized(kmt_session_params_init)
        params.n_threads = -2
        #expect(kmt_session_create(model, &params, &session) == KMT_ERR_INVALID_ARGUMENT)
        params = initialized(kmt_session_params_init)
        params.nonfinite_policy = kmt_nonfinite_policy(rawValue: 7)
        #expect(kmt_session_create(model, &params, &session) == KMT_ERR_INVALID_ARGUMENT)
        params = initialized(kmt_session_params_init)
        params.struct_size = 0
        #expect(kmt_session_create(model, &params, &session) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("struct_size"))
        // An older caller whose struct ends after n_threads gets defaults for the rest.
        params = initialized(kmt_session_params_init)
        params.output_fps = 500  // beyond the declared size: must be ignored
        params.struct_size = MemoryLayout<kmt_session_params>.offset(of: \.output_fps)!
        #expect(kmt_session_create(model, &params, &session) == KMT_OK, "\(lastError)")
        kmt_session_free(session)
        // A newer caller's larger struct: the known prefix is used, the rest ignored.
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { bigger.deallocate() }
        bigger.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 256)
        var known: kmt_session_params = initialized(kmt_session_params_init)
        known.output_fps = 30
        known.struct_size = 256
        bigger.storeBytes(of: known, as: kmt_session_params.self)
        #expect(kmt_session_create(model, bigger.assumingMemoryBound(to: kmt_session_params.self), &session) == KMT_OK, "\(lastError)")
        kmt_session_free(session)
        for latency in [5.0, -2, .nan, .infinity] {
            params = initialized(kmt_session_params_init)
            params.latency_ms = latency
            #expect(kmt_session_create(model, &params, &session) == KMT_ERR_INVALID_ARGUMENT, "latency_ms \(latency)")
            #expect(lastError.contains("latency_ms"), "\(lastError)")
        }
        var modelParams: kmt_model_params = initialized(kmt_model_params_init)
        modelParams.flags = 1
        var other: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, &modelParams, &other) == KMT_ERR_INVALID_ARGUMENT)
    }

    @Test func paramsInitWritesTheCallersSizeOnly() throws {
        expectParamsInit(
            kmt_model_params_init,
            byValue: kmt_model_params(struct_size: MemoryLayout<kmt_model_params>.size, flags: 0, reserved: 0),
            name: "kmt_model_params", olderSize: MemoryLayout<Int>.size, splitSize: nil)
        // 32 bytes: a struct that stops before the progress fields; 36 would split a pointer.
        expectParamsInit(
            kmt_session_params_init,
            byValue: kmt_session_params(
                struct_size: MemoryLayout<kmt_session_params>.size, n_threads: 0, nonfinite_policy: KMT_NONFINITE_REJECT,
                output_fps: 0, latency_ms: 0, progress: nil, progress_user_data: nil),
            name: "kmt_session_params", olderSize: 32, splitSize: 36)
        #expect(MemoryLayout<kmt_session_params>.size == 48)
    }

    @Test func latencyIsASessionParameter() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        func latency(_ value: Double) throws -> (latency: Double, exact: Double) {
            var params: kmt_session_params = initialized(kmt_session_params_init)
            params.latency_ms = value
            var session: OpaquePointer?
            #expect(kmt_session_create(model, &params, &session) == KMT_OK, "\(lastError)")
            defer { kmt_session_free(session) }
            return (got(0) { kmt_session_latency_ms(session, $0) }, got(0) { kmt_session_exact_latency_ms(session, $0) })
        }
        let exact = try latency(Double(KMT_LATENCY_EXACT))
        #expect(exact.latency == exact.exact && exact.exact > 40, "\(exact)")
        #expect(try latency(40).latency == 40)
        #expect(try latency(1e6).latency == exact.exact, "above the look-ahead is exact")
        let standard = try latency(0)
        #expect(standard.latency == min(StreamingSession.defaultLatencyMs, standard.exact))
    }

    @Test func paramsInitStructsOfEveryHeaderVersionCreateSessions() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)
        defer { raw.deallocate() }
        let params = raw.bindMemory(to: kmt_session_params.self, capacity: 1)
        // A host with a smaller struct (24 bytes, up to output_fps): the bytes after its
        // struct are not its own, and stay what they were.
        raw.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 128)
        #expect(kmt_session_params_init(params, 24) == KMT_OK, "\(lastError)")
        params.pointee.output_fps = 60
        var session: OpaquePointer?
        #expect(kmt_session_create(model, params, &session) == KMT_OK, "\(lastError)")
        kmt_session_free(session)
        // A host of a newer header (a larger struct): its unknown fields are 0.
        #expect(kmt_session_params_init(params, 64) == KMT_OK, "\(lastError)")
        #expect(params.pointee.struct_size == 64 && params.pointee.progress == nil)
        #expect(kmt_session_create(model, params, &session) == KMT_OK, "\(lastError)")
        kmt_session_free(session)
        var modelParams = kmt_model_params()
        #expect(kmt_model_params_init(&modelParams, MemoryLayout<kmt_model_params>.size) == KMT_OK)
        var other: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, &modelParams, &other) == KMT_OK, "\(lastError)")
        kmt_model_free(other)
    }

    @Test func nonFinitePCMFollowsThePolicy() throws {
        let model = try loadTinyModel()
        defer { kmt_model_free(model) }
        var samples = [Float](repeating: 0.1, count: 16_000)
        samples[500] = .nan
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        var animation: OpaquePointer?
        #expect(kmt_animate_pcm(session, samples, samples.count, 16_000, 1, &animation) == KMT_ERR_INVALID_AUDIO)
        #expect(lastError.contains("non-finite sample (nan) at frame 500"))
        kmt_session_free(session)
        var params: kmt_session_params = initialized(kmt_session_params_init)
        params.nonfinite_policy = KMT_NONFINITE_ZERO
        #expect(kmt_session_create(model, &params, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        #expect(kmt_animate_pcm(session, samples, samples.count, 16_000, 1, &animation) == KMT_OK)
        kmt_animation_free(animation)
    }

    @Test func lastErrorIsPerThreadAndClearedOnSuccess() async throws {
        var model: OpaquePointer?
        #expect(kmt_model_load_file("/nonexistent/a.safetensors", nil, &model) == KMT_ERR_IO)
        let mine = lastError
        #expect(mine.hasPrefix("/nonexistent/a.safetensors: "))
        let other = await Task.detached { () -> String in
            var model: OpaquePointer?
            _ = kmt_model_load_file(nil, nil, &model)
            return String(cString: kmt_last_error())
        }.value
        #expect(other == "path is NULL")
        #expect(kmt_version_number() > 0)
        let loaded = try loadTinyModel()
        kmt_model_free(loaded)
        #expect(lastError == "")
    }

    @Test func sessionsShareAModelAcrossThreadsAndOutliveIt() async throws {
        let model = try loadTinyModel()
        let samples = AudioWriter.sine(frequency: 180, rate: 16_000, channels: 1, seconds: 1)
        var sessions: [OpaquePointer] = []
        // Defaults (n_threads 0) and an explicit single thread compute the same bits, whatever
        // the other tests of this process run at the same moment.
        var single: kmt_session_params = initialized(kmt_session_params_init)
        single.n_threads = 1
        for index in 0..<4 {
            var session: OpaquePointer?
            let status = index.isMultiple(of: 2)
                ? kmt_session_create(model, nil, &session) : kmt_session_create(model, &single, &session)
            #expect(status == KMT_OK)
            sessions.append(try #require(session))
        }
        kmt_model_free(model)  // sessions keep it alive
        let handles = sessions.map { UInt(bitPattern: $0) }
        let results = try await withThrowingTaskGroup(of: [Float].self) { group in
            for handle in handles {
                group.addTask {
                    var animation: OpaquePointer?
                    let session = OpaquePointer(bitPattern: handle)
                    guard kmt_animate_pcm(session, samples, samples.count, 16_000, 1, &animation) == KMT_OK else {
                        throw KMTError(KMT_ERR_INTERNAL, String(cString: kmt_last_error()))
                    }
                    defer { kmt_animation_free(animation) }
                    var count = 0
                    _ = kmt_animation_frame_count(animation, &count)
                    var frames = [Float](repeating: 0, count: count * 52)
                    _ = kmt_animation_read_frames(animation, 0, count, &frames, frames.count, nil)
                    return frames
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        #expect(results.allSatisfy { $0 == results[0] && !$0.isEmpty })
        sessions.forEach { kmt_session_free($0) }
    }

    @Test func logCallbackReceivesMessages() throws {
        // Other tests run in parallel and may log through the callback from their threads.
        final class Box: @unchecked Sendable {
            private let lock = NSLock()
            private var stored: [String] = []
            func append(_ message: String) { lock.withLock { stored.append(message) } }
            var messages: [String] { lock.withLock { stored } }
        }
        let box = Box()
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        kmt_log_set({ _, message, user in
            let box = Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue()
            box.append(String(cString: message!))
        }, KMT_LOG_INFO, unmanaged.toOpaque())
        let model = try loadTinyModel()
        // A Live Link Face CSV at a rate the app never records is written with a warning
        // (in this test: the one window with a log callback installed).
        let odd = Handle.retain(ExportFixtures.animation(frames: 5, fps: 50))
        let usual = Handle.retain(ExportFixtures.animation(frames: 5, fps: 30))
        var size = 0
        #expect(kmt_animation_save_to_memory(odd, nil, KMT_EXPORT_LIVE_LINK_CSV, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(kmt_animation_save_to_memory(usual, nil, KMT_EXPORT_LIVE_LINK_CSV, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
        kmt_log_set(nil, KMT_LOG_INFO, nil)
        kmt_animation_free(odd)
        kmt_animation_free(usual)
        kmt_model_free(model)
        #expect(box.messages.contains { $0.contains("loaded") && $0.contains("kmtalk-direct") })
        #expect(box.messages.contains { $0.hasPrefix("Live Link Face CSV at 50 fps: the Live Link Face app records at 30 or 60 fps") })
        #expect(!box.messages.contains { $0.hasPrefix("Live Link Face CSV at 30 fps") })
    }
}

/// Checks a `kmt_*_params_init` function the way C hosts built against an older, the
/// current and a newer header call it (`sizeof(*params)` as each was compiled): exactly
/// `struct_size` bytes written, the by-value function's defaults for the fields both know,
/// zeros beyond the library's struct, the caller's struct_size kept; NULL, sizes below
/// sizeof(size_t) or absurdly large, and `splitSize` (inside a pointer field) refused with
/// a message and nothing written. Returns nothing; records issues at the caller's line.
func expectParamsInit<T>(
    _ initialize: (UnsafeMutablePointer<T>?, Int) -> kmt_status, byValue: T, name: String,
    olderSize: Int, splitSize: Int?, sourceLocation: SourceLocation = #_sourceLocation
) {
    let lastError = { String(cString: kmt_last_error()) }
    let size = MemoryLayout<T>.size
    let defaults = withUnsafeBytes(of: byValue) { Array($0) }
    #expect(defaults.prefix(8) == sizeBytes(size)[...], "the by-value struct_size", sourceLocation: sourceLocation)
    let capacity = size + 64
    let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { raw.deallocate() }
    let params = raw.bindMemory(to: T.self, capacity: 1)
    func filled() -> UnsafeMutablePointer<T> {
        raw.initializeMemory(as: UInt8.self, repeating: 0xAB, count: capacity)
        return params
    }
    var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: raw, count: capacity)) }

    // The current header: the by-value defaults, byte for byte; nothing past sizeof.
    #expect(initialize(filled(), size) == KMT_OK, "\(lastError())", sourceLocation: sourceLocation)
    #expect(Array(bytes[..<size]) == defaults, sourceLocation: sourceLocation)
    #expect(bytes[size...].allSatisfy { $0 == 0xAB }, sourceLocation: sourceLocation)
    #expect(lastError() == "", sourceLocation: sourceLocation)

    // An older header's smaller struct: only its bytes are written.
    #expect(initialize(filled(), olderSize) == KMT_OK, "\(lastError())", sourceLocation: sourceLocation)
    #expect(Array(bytes[..<8]) == sizeBytes(olderSize), sourceLocation: sourceLocation)
    #expect(Array(bytes[8..<olderSize]) == Array(defaults[8..<olderSize]), sourceLocation: sourceLocation)
    #expect(bytes[olderSize...].allSatisfy { $0 == 0xAB }, "bytes past the older struct written", sourceLocation: sourceLocation)

    // A newer header's larger struct: the known defaults, zeros for the fields the library
    // does not know, the caller's struct_size.
    let newer = size + 24
    #expect(initialize(filled(), newer) == KMT_OK, "\(lastError())", sourceLocation: sourceLocation)
    #expect(Array(bytes[..<8]) == sizeBytes(newer), sourceLocation: sourceLocation)
    #expect(Array(bytes[8..<size]) == Array(defaults[8...]), sourceLocation: sourceLocation)
    #expect(bytes[size..<newer].allSatisfy { $0 == 0 }, sourceLocation: sourceLocation)
    #expect(bytes[newer...].allSatisfy { $0 == 0xAB }, sourceLocation: sourceLocation)

    // Refused, nothing written, a message naming the function.
    let bad: [(UnsafeMutablePointer<T>?, Int, String)] = [
        (nil, size, "NULL"), (params, 0, "struct_size 0"), (params, 4, "struct_size 4"),
        (params, 65537, "struct_size 65537"), (params, -1, "struct_size \(UInt.max)"),
    ] + (splitSize.map { [(params, $0, "ends inside the pointer field")] } ?? [])
    for (pointer, structSize, fragment) in bad {
        _ = filled()
        #expect(initialize(pointer, structSize) == KMT_ERR_INVALID_ARGUMENT, "\(structSize)", sourceLocation: sourceLocation)
        #expect(lastError().hasPrefix("\(name)_init: ") && lastError().contains(fragment), "\(lastError())", sourceLocation: sourceLocation)
        #expect(bytes.allSatisfy { $0 == 0xAB }, "written despite \(structSize)", sourceLocation: sourceLocation)
    }
    // A success clears the last error.
    #expect(initialize(filled(), size) == KMT_OK && lastError() == "", sourceLocation: sourceLocation)
}

/// A parameter struct set up by its `kmt_*_params_init` function, as hosts should (the
/// by-value `kmt_*_default_params()` are deprecated); a failure is a test issue.
func initialized<T>(_ initialize: (UnsafeMutablePointer<T>?, Int) -> kmt_status) -> T {
    let params = UnsafeMutablePointer<T>.allocate(capacity: 1)
    defer { params.deallocate() }
    let status = initialize(params, MemoryLayout<T>.size)
    #expect(status == KMT_OK, "\(String(cString: kmt_last_error()))")
    return params.move()
}

/// The bytes of a size_t holding `value`.
private func sizeBytes(_ value: Int) -> [UInt8] {
    withUnsafeBytes(of: UInt(value)) { Array($0) }
}
