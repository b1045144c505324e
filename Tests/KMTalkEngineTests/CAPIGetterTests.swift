import CKMTalk
import CSndFile
import Foundation
import Testing

@testable import KMTalkEngine

/// Every getter of a kmt_model, kmt_session, kmt_audio, kmt_animation and kmt_rig follows
/// the one rule of include/kmtalk.h ("The one rule for reading values"): kmt_status plus an
/// out-parameter that is set to 0 or NULL first; a NULL object, a NULL out-parameter or an
/// index out of range is KMT_ERR_INVALID_ARGUMENT with a message naming it.
@Suite struct CAPIGetterTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// One getter, callable with any handle and with or without its out-parameter. The
    /// closures hold only a C function and constants, so the getter may cross threads.
    struct Getter: CustomStringConvertible, @unchecked Sendable {
        /// The C function's name.
        let name: String
        /// Which object it reads ("model", "session", "audio", "animation", "rig").
        let object: String
        /// The out-parameter's name in include/kmtalk.h.
        let out: String
        /// Calls the getter on `handle`, with a non-NULL out-parameter holding a sentinel
        /// when `withOut`; returns the status and whether the out-parameter was zeroed.
        let call: (_ handle: OpaquePointer?, _ withOut: Bool) -> (status: kmt_status, zeroed: Bool)

        var description: String { name }

        init<T>(
            _ name: String, _ object: String, _ out: String, sentinel: T, isZero: @escaping (T) -> Bool,
            _ function: @escaping (OpaquePointer?, UnsafeMutablePointer<T>?) -> kmt_status
        ) {
            self.name = name
            self.object = object
            self.out = out
            call = { handle, withOut in
                guard withOut else { return (function(handle, nil), true) }
                var value = sentinel
                let status = function(handle, &value)
                return (status, isZero(value))
            }
        }

        /// A getter of a number (size_t, int32_t, uint64_t, double).
        static func number<T: Numeric>(
            _ name: String, _ object: String, _ out: String,
            _ function: @escaping (OpaquePointer?, UnsafeMutablePointer<T>?) -> kmt_status
        ) -> Getter {
            Getter(name, object, out, sentinel: 7, isZero: { $0 == 0 }, function)
        }

        /// A getter of a pointer (a string or the samples).
        static func pointer<T>(
            _ name: String, _ object: String, _ out: String,
            _ function: @escaping (OpaquePointer?, UnsafeMutablePointer<UnsafePointer<T>?>?) -> kmt_status
        ) -> Getter {
            Getter(name, object, out, sentinel: UnsafePointer<T>(bitPattern: 0xdead), isZero: { $0 == nil }, function)
        }
    }

    /// Every per-object getter of include/kmtalk.h (names by index at index 0).
    static let getters: [Getter] = [
        .pointer("kmt_model_architecture", "model", "out_name") { kmt_model_architecture($0, $1) },
        .pointer("kmt_model_motion_space", "model", "out_space") { kmt_model_motion_space($0, $1) },
        .number("kmt_model_sample_rate", "model", "out_rate") { kmt_model_sample_rate($0, $1) },
        .number("kmt_model_fps", "model", "out_fps") { kmt_model_fps($0, $1) },
        .number("kmt_model_channel_count", "model", "out_count") { kmt_model_channel_count($0, $1) },
        .pointer("kmt_model_channel_name", "model", "out_name") { kmt_model_channel_name($0, 0, $1) },
        .number("kmt_model_parameter_count", "model", "out_count") { kmt_model_parameter_count($0, $1) },
        .number("kmt_session_latency_ms", "session", "out_ms") { kmt_session_latency_ms($0, $1) },
        .number("kmt_session_exact_latency_ms", "session", "out_ms") { kmt_session_exact_latency_ms($0, $1) },
        .number("kmt_session_output_fps", "session", "out_fps") { kmt_session_output_fps($0, $1) },
        .number("kmt_audio_sample_rate", "audio", "out_rate") { kmt_audio_sample_rate($0, $1) },
        .number("kmt_audio_sample_count", "audio", "out_count") { kmt_audio_sample_count($0, $1) },
        .pointer("kmt_audio_samples", "audio", "out_samples") { kmt_audio_samples($0, $1) },
        .number("kmt_audio_source_rate", "audio", "out_rate") { kmt_audio_source_rate($0, $1) },
        .number("kmt_audio_source_channels", "audio", "out_channels") { kmt_audio_source_channels($0, $1) },
        .pointer("kmt_audio_format_name", "audio", "out_name") { kmt_audio_format_name($0, $1) },
        .number("kmt_animation_frame_count", "animation", "out_count") { kmt_animation_frame_count($0, $1) },
        .number("kmt_animation_channel_count", "animation", "out_count") { kmt_animation_channel_count($0, $1) },
        .number("kmt_animation_fps", "animation", "out_fps") { kmt_animation_fps($0, $1) },
        .pointer("kmt_animation_channel_name", "animation", "out_name") { kmt_animation_channel_name($0, 0, $1) },
        .number("kmt_animation_vertex_count", "animation", "out_count") { kmt_animation_vertex_count($0, $1) },
        .number("kmt_rig_vertex_count", "rig", "out_count") { kmt_rig_vertex_count($0, $1) },
        .number("kmt_rig_face_count", "rig", "out_count") { kmt_rig_face_count($0, $1) },
        .number("kmt_rig_shape_count", "rig", "out_count") { kmt_rig_shape_count($0, $1) },
        .pointer("kmt_rig_shape_name", "rig", "out_name") { kmt_rig_shape_name($0, 0, $1) },
    ]

    /// One live object of each kind, released by `free()`.
    final class Objects {
        var handles: [String: OpaquePointer] = [:]
        let directory: URL

        init() throws {
            directory = try Fixtures.temporaryDirectory()
            var model: OpaquePointer?
            #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK)
            handles["model"] = try #require(model)
            var session: OpaquePointer?
            #expect(kmt_session_create(model, nil, &session) == KMT_OK)
            handles["session"] = try #require(session)
            let samples = AudioWriter.sine(frequency: 220, rate: 22_050, channels: 2, seconds: 0.5)
            var animation: OpaquePointer?
            #expect(kmt_animate_pcm(session, samples, samples.count / 2, 22_050, 2, &animation) == KMT_OK)
            handles["animation"] = try #require(animation)
            let path = directory.appendingPathComponent("tone.wav").path
            #expect(AudioWriter.write(path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 22_050, channels: 2, samples: samples))
            var audio: OpaquePointer?
            #expect(kmt_audio_load_file(path, nil, &audio) == KMT_OK)
            handles["audio"] = try #require(audio)
            let bytes = RigBuilder(shapeNames: ["jawOpen", "eyeBlink_L", "eyeBlink_R"], vertexCount: 9).encode()
            var rig: OpaquePointer?
            #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK)
            handles["rig"] = try #require(rig)
        }

        func free() {
            kmt_animation_free(handles["animation"])
            kmt_session_free(handles["session"])
            kmt_model_free(handles["model"])
            kmt_audio_free(handles["audio"])
            kmt_rig_free(handles["rig"])
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test(arguments: getters)
    func refusesANullObjectAndClearsTheOutParameter(getter: Getter) {
        let (status, zeroed) = getter.call(nil, true)
        #expect(status == KMT_ERR_INVALID_ARGUMENT)
        #expect(zeroed, "the out-parameter keeps the caller's value")
        #expect(lastError == "\(getter.object) is NULL")
        // Both NULL: still refused, nothing written anywhere.
        #expect(getter.call(nil, false).status == KMT_ERR_INVALID_ARGUMENT)
    }

    @Test func refusesANullOutParameter() throws {
        let objects = try Objects()
        defer { objects.free() }
        for getter in Self.getters {
            let status = getter.call(objects.handles[getter.object], false).status
            #expect(status == KMT_ERR_INVALID_ARGUMENT, "\(getter)")
            #expect(lastError == "\(getter.out) is NULL", "\(getter)")
        }
    }

    @Test func everyGetterSucceedsOnALiveObject() throws {
        let objects = try Objects()
        defer { objects.free() }
        for getter in Self.getters {
            #expect(getter.call(objects.handles[getter.object], true).status == KMT_OK, "\(getter): \(lastError)")
            #expect(lastError == "", "\(getter)")
        }
    }

    @Test func gettersReadTheObjectsValues() throws {
        let objects = try Objects()
        defer { objects.free() }
        let model = objects.handles["model"], session = objects.handles["session"]
        let audio = objects.handles["audio"], animation = objects.handles["animation"], rig = objects.handles["rig"]
        #expect(gotString { kmt_model_architecture(model, $0) } == "kmtalk-direct")
        #expect(gotString { kmt_model_motion_space(model, $0) } == "arkit")
        #expect(got(0) { kmt_model_sample_rate(model, $0) } == 16_000)
        #expect(got(0) { kmt_model_fps(model, $0) } == 50)
        #expect(got(0) { kmt_model_channel_count(model, $0) } == 52)
        #expect(gotString { kmt_model_channel_name(model, 51, $0) } == "tongueOut")
        #expect(got(0) { kmt_model_parameter_count(model, $0) } == 25_844)

        let exact = got(0) { kmt_session_exact_latency_ms(session, $0) }
        #expect(exact > 40)
        #expect(got(0) { kmt_session_latency_ms(session, $0) } == min(150, exact))
        #expect(got(0) { kmt_session_output_fps(session, $0) } == 50)

        #expect(got(0) { kmt_audio_sample_rate(audio, $0) } == 22_050)
        #expect(got(0) { kmt_audio_source_rate(audio, $0) } == 22_050)
        #expect(got(0) { kmt_audio_source_channels(audio, $0) } == 2)
        let count = got(0) { kmt_audio_sample_count(audio, $0) }
        #expect(count == 11_025)
        let samples = try #require(got(nil) { kmt_audio_samples(audio, $0) })
        #expect(UnsafeBufferPointer(start: samples, count: count).contains { $0 != 0 })
        #expect(gotString { kmt_audio_format_name(audio, $0) } == "WAV (Microsoft) / 32 bit float")

        #expect(got(0) { kmt_animation_frame_count(animation, $0) } == 26, "0.5 s at 50 fps, both ends")
        #expect(got(0) { kmt_animation_channel_count(animation, $0) } == 52)
        #expect(got(0) { kmt_animation_fps(animation, $0) } == 50)
        #expect(gotString { kmt_animation_channel_name(animation, 17, $0) } == "jawOpen")
        #expect(got(7) { kmt_animation_vertex_count(animation, $0) } == 0, "weights carry no template")

        #expect(got(0) { kmt_rig_vertex_count(rig, $0) } == 9)
        #expect(got(0) { kmt_rig_face_count(rig, $0) } == 7)
        #expect(got(0) { kmt_rig_shape_count(rig, $0) } == 3)
        #expect(gotString { kmt_rig_shape_name(rig, 2, $0) } == "eyeBlink_R")
    }

    @Test func namesByIndexRefuseAnIndexOutOfRange() throws {
        let objects = try Objects()
        defer { objects.free() }
        let model = objects.handles["model"], animation = objects.handles["animation"], rig = objects.handles["rig"]
        let cases: [(String, (Int, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> kmt_status, String, Int)] = [
            ("kmt_model_channel_name", { kmt_model_channel_name(model, $0, $1) }, "channel", 52),
            ("kmt_animation_channel_name", { kmt_animation_channel_name(animation, $0, $1) }, "channel", 52),
            ("kmt_rig_shape_name", { kmt_rig_shape_name(rig, $0, $1) }, "shape", 3),
        ]
        for (function, call, item, count) in cases {
            // The last index is fine; the count, and SIZE_MAX (-1 here), are not.
            var name = UnsafePointer<CChar>(bitPattern: 0xdead)
            #expect(call(count - 1, &name) == KMT_OK && name != nil, "\(function)")
            for index in [count, count + 8, -1] {
                name = UnsafePointer<CChar>(bitPattern: 0xdead)
                #expect(call(index, &name) == KMT_ERR_INVALID_ARGUMENT, "\(function) \(index)")
                #expect(name == nil, "\(function) \(index)")
                #expect(lastError == "\(item) index \(UInt(bitPattern: index)) is not below the \(item) count \(count)")
            }
        }
    }
}
