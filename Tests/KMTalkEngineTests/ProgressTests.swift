import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// What a C host's progress callback saw: every (fraction, stage), the thread it ran on,
/// and whether the call had already returned. Cancels (returns 1) once the fraction
/// reaches `cancelAt`.
final class ProgressLog {
    var fractions: [Float] = []
    var stages: [String] = []
    var threads: [pthread_t] = []
    var callsAfterReturn = 0
    var returned = false
    let cancelAt: Float?

    init(cancelAt: Float? = nil) { self.cancelAt = cancelAt }

    /// The `kmt_progress_callback` that records into the `ProgressLog` its user data points to.
    static let callback: kmt_progress_callback = { fraction, stage, userData in
        let log = Unmanaged<ProgressLog>.fromOpaque(userData!).takeUnretainedValue()
        if log.returned { log.callsAfterReturn += 1 }
        log.fractions.append(fraction)
        log.stages.append(stage.map { String(cString: $0) } ?? "<NULL>")
        log.threads.append(pthread_self())
        if let cancelAt = log.cancelAt, fraction >= cancelAt { return 1 }
        return 0
    }

    var userData: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Checks the promises of include/kmtalk.h for one call.
    func expectWellFormed(finished: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!fractions.isEmpty, "no report at all", sourceLocation: sourceLocation)
        #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 <= $1 }, "fractions decrease: \(fractions)", sourceLocation: sourceLocation)
        #expect(fractions.allSatisfy { $0 >= 0 && $0 <= 1 }, "fractions outside 0...1", sourceLocation: sourceLocation)
        #expect(fractions.count <= 110, "\(fractions.count) reports: not a bounded rate", sourceLocation: sourceLocation)
        #expect(threads.allSatisfy { pthread_equal($0, pthread_self()) != 0 }, "a report on another thread", sourceLocation: sourceLocation)
        #expect(callsAfterReturn == 0, "reports after the call returned", sourceLocation: sourceLocation)
        if finished {
            #expect(fractions.last == 1, "the last report is not 1.0: \(fractions.suffix(3))", sourceLocation: sourceLocation)
            #expect(fractions.filter { $0 == 1 }.count == 1, "1.0 reported more than once", sourceLocation: sourceLocation)
        } else {
            #expect(!fractions.contains(1), "a cancelled call reported 1.0", sourceLocation: sourceLocation)
        }
    }
}

/// Progress and cancellation of the long offline calls through the C API: kmt_animate_pcm
/// and kmt_animate_file (short and long audio), the session params' struct_size rules.
@Suite struct ProgressTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// The streaming-capable tiny model (long audio goes through the stream).
    func loadModel() throws -> OpaquePointer {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.path("kmtalk-tiny.safetensors"), nil, &model) == KMT_OK, "\(lastError)")
        return try #require(model)
    }

    /// A session reporting to `log` (or without a callback).
    func session(_ model: OpaquePointer, _ log: ProgressLog?) throws -> OpaquePointer {
        var params = kmt_session_params()
        #expect(kmt_session_params_init(&params, MemoryLayout<kmt_session_params>.size) == KMT_OK)
        params.n_threads = 1
        if let log {
            params.progress = ProgressLog.callback
            params.progress_user_data = log.userData
        }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, &params, &session) == KMT_OK, "\(lastError)")
        return try #require(session)
    }

    /// `seconds` of speech-like mono audio at 16 kHz.
    static func speech(seconds: Double) -> [Float] {
        BoundedOfflineTests.signal(seconds: seconds, rate: 16_000)
    }

    @Test func longPCMReportsMonotonicFractionsEndingAtOne() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let log = ProgressLog()
        let session = try session(model, log)
        defer { kmt_session_free(session) }
        let pcm = Self.speech(seconds: 150)  // over Session.boundedOfflineSeconds: block by block
        var animation: OpaquePointer?
        let status = withExtendedLifetime(log) { kmt_animate_pcm(session, pcm, pcm.count, 16_000, 1, &animation) }
        log.returned = true
        #expect(status == KMT_OK, "\(lastError)")
        defer { kmt_animation_free(animation) }
        #expect(abs(got(0) { kmt_animation_frame_count(animation, $0) } - 7_500) <= 2, "150 s at 50 fps")
        log.expectWellFormed(finished: true)
        #expect(Set(log.stages) == ["network"], "\(Set(log.stages))")
        // Block by block: many reports, spread over the whole range.
        #expect(log.fractions.count >= 50, "\(log.fractions.count) reports")
        let gaps = zip(log.fractions, log.fractions.dropFirst()).map { $1 - $0 }
        #expect(gaps.max() ?? 1 < 0.05, "largest step \(gaps.max() ?? 1)")
    }

    @Test func longFileReportsAsItDecodes() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let log = ProgressLog()
        let session = try session(model, log)
        defer { kmt_session_free(session) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("long.wav").path
        #expect(AudioWriter.write(path: path, format: Int32(0x010000 | 0x0006), rate: 16_000, channels: 1, samples: Self.speech(seconds: 130)))
        var animation: OpaquePointer?
        #expect(kmt_animate_file(session, path, &animation) == KMT_OK, "\(lastError)")
        log.returned = true
        kmt_animation_free(animation)
        log.expectWellFormed(finished: true)
        #expect(log.stages.first == "decode" && log.stages.last == "network", "\(log.stages)")
        #expect(log.fractions.count >= 50)
    }

    @Test func shortAudioReportsItsStages() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let log = ProgressLog()
        let session = try session(model, log)
        defer { kmt_session_free(session) }
        let pcm = Self.speech(seconds: 3)
        var animation: OpaquePointer?
        #expect(kmt_animate_pcm(session, pcm, pcm.count, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        log.returned = true
        kmt_animation_free(animation)
        log.expectWellFormed(finished: true)
        var order: [String] = []
        for stage in log.stages where order.last != stage { order.append(stage) }
        #expect(order == ["decode", "features", "network"], "\(log.stages)")
    }

    @Test func cancellingHalfwayReturnsCancelledAndNoAnimation() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let log = ProgressLog(cancelAt: 0.5)
        let session = try session(model, log)
        defer { kmt_session_free(session) }
        let pcm = Self.speech(seconds: 150)
        var animation = OpaquePointer(bitPattern: 0x1)  // must be reset to NULL
        let status = kmt_animate_pcm(session, pcm, pcm.count, 16_000, 1, &animation)
        log.returned = true
        #expect(status == KMT_ERR_CANCELLED)
        #expect(animation == nil)
        #expect(lastError.contains("cancelled by the progress callback during network"), "\(lastError)")
        #expect(String(cString: kmt_status_string(KMT_ERR_CANCELLED)) == "cancelled")
        log.expectWellFormed(finished: false)
        let last = try #require(log.fractions.last)
        #expect(last >= 0.5 && last < 0.56, "stopped at the first report past 0.5: \(last)")
        // The session is left usable: the next call runs to the end (no cancel below 1.0
        // is asked for, so this one stops only at its final report).
        let again = ProgressLog(cancelAt: 2)
        var params = kmt_session_params()
        #expect(kmt_session_params_init(&params, MemoryLayout<kmt_session_params>.size) == KMT_OK)
        params.progress = ProgressLog.callback
        params.progress_user_data = again.userData
        var second: OpaquePointer?
        #expect(kmt_session_create(model, &params, &second) == KMT_OK)
        defer { kmt_session_free(second) }
        let short = Self.speech(seconds: 2)
        #expect(kmt_animate_pcm(second, short, short.count, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        kmt_animation_free(animation)
        #expect(kmt_animate_pcm(session, short, short.count, 16_000, 1, &animation) == KMT_ERR_CANCELLED,
                "the first session still cancels at 0.5")
    }

    @Test func cancellingAtTheFinalReportStillCancels() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let log = ProgressLog(cancelAt: 1)
        let session = try session(model, log)
        defer { kmt_session_free(session) }
        let pcm = Self.speech(seconds: 2)
        var animation: OpaquePointer?
        #expect(kmt_animate_pcm(session, pcm, pcm.count, 16_000, 1, &animation) == KMT_ERR_CANCELLED)
        #expect(animation == nil)
        #expect(log.fractions.last == 1)
    }

    @Test func olderSmallerParamsGetNoProgress() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let log = ProgressLog(cancelAt: 0)
        var params = kmt_session_params()
        #expect(kmt_session_params_init(&params, MemoryLayout<kmt_session_params>.size) == KMT_OK)
        params.progress = ProgressLog.callback  // beyond the declared size: must be ignored
        params.progress_user_data = log.userData
        params.struct_size = MemoryLayout<kmt_session_params>.offset(of: \.progress)!
        #expect(params.struct_size == 32, "the size of kmt_session_params before the progress fields")
        var session: OpaquePointer?
        #expect(kmt_session_create(model, &params, &session) == KMT_OK, "\(lastError)")
        defer { kmt_session_free(session) }
        let pcm = Self.speech(seconds: 1)
        var animation: OpaquePointer?
        #expect(kmt_animate_pcm(session, pcm, pcm.count, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        kmt_animation_free(animation)
        #expect(log.fractions.isEmpty, "an old caller's struct got progress reports")

        // A size that ends inside a pointer would leave half of it: refused.
        for size in [36, 44] {
            params.struct_size = size
            var refused: OpaquePointer?
            #expect(kmt_session_create(model, &params, &refused) == KMT_ERR_INVALID_ARGUMENT, "struct_size \(size)")
            #expect(lastError.contains("ends inside the pointer field"), "\(lastError)")
            #expect(refused == nil)
        }
        // The same for the rig import params (40 bytes before the progress fields).
        var importParams = kmt_rig_import_params()
        #expect(kmt_rig_import_params_init(&importParams, MemoryLayout<kmt_rig_import_params>.size) == KMT_OK)
        #expect(MemoryLayout<kmt_rig_import_params>.offset(of: \.progress) == 40)
        importParams.struct_size = 44
        var rig: OpaquePointer?
        #expect(kmt_rig_import_file("/nonexistent.glb", &importParams, &rig) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("struct_size 44"), "\(lastError)")
    }

    @Test func nullCallbacksAreFine() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let session = try session(model, nil)
        defer { kmt_session_free(session) }
        // A NULL callback with user data set, and long audio: no reports, no crash.
        var params = kmt_session_params()
        #expect(kmt_session_params_init(&params, MemoryLayout<kmt_session_params>.size) == KMT_OK)
        params.progress_user_data = UnsafeMutableRawPointer(bitPattern: 0xdead)
        var other: OpaquePointer?
        #expect(kmt_session_create(model, &params, &other) == KMT_OK)
        defer { kmt_session_free(other) }
        let pcm = Self.speech(seconds: 125)
        var animation: OpaquePointer?
        #expect(kmt_animate_pcm(other, pcm, pcm.count, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        kmt_animation_free(animation)
        #expect(kmt_animate_pcm(session, pcm, 16_000, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        kmt_animation_free(animation)
    }

    @Test func reporterRules() throws {
        var seen: [(Double, String)] = []
        var stopAt = 2.0
        let reporter = ProgressReporter { fraction, stage in
            seen.append((fraction, "\(stage)"))
            return fraction < stopAt
        }
        try reporter.report(0, stage: "decode")
        try reporter.report(0.004, stage: "decode")  // under a step: not delivered
        try reporter.report(0.2, stage: "decode")
        try reporter.report(0.1, stage: "decode")  // backwards: held at 0.2
        try reporter.report(0.2, stage: "network")  // a new stage: delivered
        try reporter.report(.nan, stage: "network")
        try reporter.report(5, stage: "network")  // clamped, and 1.0 is left to finish
        #expect(seen.map(\.0).elementsEqual([0, 0.2, 0.2, 0.995]) { abs($0 - $1) < 1e-9 }, "\(seen)")
        #expect(seen.map(\.1) == ["decode", "decode", "network", "network"])
        try reporter.finish(stage: "network")
        try reporter.finish(stage: "network")  // once
        #expect(seen.count == 5 && seen.last?.0 == 1)
        try reporter.report(0.5, stage: "x")
        #expect(seen.count == 5, "nothing after the end")

        seen = []
        stopAt = 0.3
        let cancelling = ProgressReporter { fraction, stage in
            seen.append((fraction, "\(stage)"))
            return fraction < stopAt
        }
        try cancelling.report(0.1, stage: "export")
        #expect(throws: KMTError.self) { try cancelling.report(0.4, stage: "export") }
        do {
            try cancelling.report(0.9, stage: "export")
            try cancelling.finish(stage: "export")
        }
        #expect(seen.count == 2, "no report after the cancel")
        // A part maps its own 0...1 onto the range.
        seen = []
        stopAt = 2
        let parted = ProgressReporter { fraction, stage in
            seen.append((fraction, "\(stage)"))
            return true
        }
        let part = parted.part(0.5...0.7, stage: "import")
        try part(0.5)
        #expect(abs(seen[0].0 - 0.6) < 1e-12 && seen[0].1 == "import")
    }
}
