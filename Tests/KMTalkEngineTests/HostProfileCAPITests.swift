import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The C functions a host needs beyond animating (what the CLI uses as a host):
/// `kmt_model_log_mel`, `kmt_session_stage_times` and `kmt_rig_match_names`, called as a
/// C host calls them.
@Suite struct HostProfileCAPITests {
    var lastError: String { String(cString: kmt_last_error()) }

    func loadModel() throws -> OpaquePointer {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        return try #require(model)
    }

    /// Deterministic speech-like samples at `rate` Hz.
    func signal(seconds: Double, rate: Int) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { n in
            let t = Double(n) / Double(rate)
            return Float(0.3 * sin(2 * Double.pi * 150 * t) * max(0, sin(2 * Double.pi * 3 * t)))
        }
    }

    @Test func logMelIsTheModelsOwnFrontEnd() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        let samples = signal(seconds: 0.5, rate: Int(got(0) { kmt_model_sample_rate(model, $0) }))
        var needed = 0, bands = 0
        #expect(kmt_model_log_mel(model, samples, samples.count, nil, 0, &needed, &bands) == KMT_ERR_BUFFER_TOO_SMALL)
        let engine = try KMTalkModel(path: Fixtures.tinyModelPath)
        let expected = engine.features(samples)
        #expect(bands == expected.shape[1] && needed == expected.data.count, "\(bands) bands, \(needed) floats")
        var values = [Float](repeating: .nan, count: needed)
        #expect(kmt_model_log_mel(model, samples, samples.count, &values, values.count, &needed, nil) == KMT_OK, "\(lastError)")
        #expect(values == expected.data)
        // Frames follow the hop: 0.5 s at a 10 ms hop is about 50 frames.
        #expect(abs(needed / bands - 50) <= 2, "\(needed / bands) frames")

        var short = [Float](repeating: 0, count: needed - 1)
        #expect(kmt_model_log_mel(model, samples, samples.count, &short, short.count, nil, nil) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(kmt_model_log_mel(model, samples, 0, nil, 0, &needed, &bands) == KMT_OK)
        #expect(needed == 0 && bands == expected.shape[1], "no samples, no frames")
        var bad = samples
        bad[7] = .nan
        #expect(kmt_model_log_mel(model, bad, bad.count, &values, values.count, nil, nil) == KMT_ERR_INVALID_AUDIO)
        #expect(lastError.contains("sample 7"), "\(lastError)")
        #expect(kmt_model_log_mel(nil, samples, samples.count, &values, values.count, nil, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_model_log_mel(model, nil, 10, &values, values.count, nil, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_model_log_mel(model, samples, samples.count, nil, 100_000, nil, nil) == KMT_ERR_INVALID_ARGUMENT)
    }

    @Test func stageTimesProfileTheLastOfflineCall() throws {
        let model = try loadModel()
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK, "\(lastError)")
        defer { kmt_session_free(session) }
        var count = 99
        #expect(kmt_session_stage_times(session, nil, 0, &count) == KMT_OK, "nothing before a call")
        #expect(count == 0)

        let samples = signal(seconds: 1, rate: 16_000)
        var animation: OpaquePointer?
        let started = StageClock.now()
        #expect(kmt_animate_pcm(session, samples, samples.count, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        let wall = StageClock.now() - started
        kmt_animation_free(animation)

        #expect(kmt_session_stage_times(session, nil, 0, &count) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(count >= 3, "\(count) stages")
        var stages = [kmt_stage_time](repeating: kmt_stage_time(), count: count + 2)
        var written = 0
        #expect(kmt_session_stage_times(session, &stages, stages.count, &written) == KMT_OK, "\(lastError)")
        #expect(written == count)
        let names = stages.prefix(written).map { String(cString: $0.stage) }
        #expect(names.first == "resample" && names.contains("features") && names.contains("encoder") && names.last == "fps", "\(names)")
        let total = stages.prefix(written).reduce(0) { $0 + $1.seconds }
        #expect(stages.prefix(written).allSatisfy { $0.seconds >= 0 })
        #expect(total > 0 && total <= wall, "stages \(total) s within the call's \(wall) s")
        // The names stay valid after the session is gone (static strings).
        let first = stages[0].stage
        #expect(kmt_session_stage_times(nil, &stages, stages.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_session_stage_times(session, nil, 100, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: first!) == names[0])
    }

    @Test func matchNamesFollowsTheRigRules() throws {
        let shapes = ["jawOpen", "eyeBlink_L", "eyeBlink_R", "browInnerUp_L", "browInnerUp_R", "cheekRaiser_L"]
        let bytes = RigBuilder(shapeNames: shapes).encode()
        var rig: OpaquePointer?
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK, "\(lastError)")
        defer { kmt_rig_free(rig) }
        let names = ["eyeBlinkRight", "tongueOut", "browInnerUp", "JawOpen", "cheekPuff"]
        var pointers = names.map { UnsafePointer(strdup($0)) }
        defer { pointers.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var written = 0
        #expect(kmt_rig_match_names(rig, &pointers, pointers.count, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == shapes.count)
        var drivers = [Int32](repeating: 99, count: shapes.count)
        #expect(kmt_rig_match_names(rig, &pointers, pointers.count, &drivers, drivers.count, &written) == KMT_OK, "\(lastError)")
        // As kmt_rig_shape_channels for an animation with these channels (RigCAPITests).
        #expect(drivers == [3, -1, 0, 2, 2, -1])
        #expect(kmt_rig_match_names(rig, nil, 0, &drivers, drivers.count, &written) == KMT_OK)
        #expect(drivers == [Int32](repeating: -1, count: shapes.count), "no names drive nothing")

        var withNull: [UnsafePointer<CChar>?] = [pointers[0], nil]
        #expect(kmt_rig_match_names(rig, &withNull, 2, &drivers, drivers.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError == "names[1] is NULL")
        let invalid = UnsafeMutablePointer<CChar>.allocate(capacity: 3)
        defer { invalid.deallocate() }
        invalid[0] = CChar(bitPattern: 0xff); invalid[1] = CChar(bitPattern: 0xfe); invalid[2] = 0
        var notUTF8: [UnsafePointer<CChar>?] = [UnsafePointer(invalid)]
        #expect(kmt_rig_match_names(rig, &notUTF8, 1, &drivers, drivers.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("UTF-8"))
        #expect(kmt_rig_match_names(nil, &pointers, pointers.count, &drivers, drivers.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_match_names(rig, nil, 3, &drivers, drivers.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_match_names(rig, &pointers, pointers.count, nil, 6, nil) == KMT_ERR_INVALID_ARGUMENT)
    }
}
