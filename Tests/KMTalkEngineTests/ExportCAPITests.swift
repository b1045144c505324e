import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// `kmt_animation_save` and `kmt_animation_save_to_memory`, called as a C host calls them:
/// every format, bad inputs giving clear statuses, files equal to the in-memory bytes.
@Suite struct ExportCAPITests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// An animation handle (freed by the caller) of `frames` random ARKit frames.
    func animationHandle(frames: Int = 6, fps: Double = 60) -> OpaquePointer {
        Handle.retain(ExportFixtures.animation(frames: frames, fps: fps))
    }

    /// A rig handle (freed by the caller) of the export test rig.
    func rigHandle() throws -> OpaquePointer {
        let bytes = try ExportFixtures.rig().0.encode()
        var rig: OpaquePointer?
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK, "\(lastError)")
        return try need(rig)
    }

    /// The bytes kmt_animation_save_to_memory gives, asking for the size first.
    func memoryBytes(_ animation: OpaquePointer, _ rig: OpaquePointer?, _ format: kmt_export_format) throws -> [UInt8] {
        var size = -1
        #expect(kmt_animation_save_to_memory(animation, rig, format, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL, "\(lastError)")
        #expect(size > 0)
        var bytes = [UInt8](repeating: 0, count: max(size, 0))
        var written = 0
        #expect(kmt_animation_save_to_memory(animation, rig, format, &bytes, bytes.count, &written) == KMT_OK, "\(lastError)")
        #expect(written == size && lastError == "")
        return bytes
    }

    @Test func everySingleFileFormatSavesWhatMemoryGives() throws {
        let animation = animationHandle()
        defer { kmt_animation_free(animation) }
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, kmt_export_format, OpaquePointer?)] = [
            ("a.json", KMT_EXPORT_AUTO, nil), ("b.csv", KMT_EXPORT_AUTO, nil), ("c.csv", KMT_EXPORT_LIVE_LINK_CSV, nil),
            ("d.npy", KMT_EXPORT_AUTO, nil), ("e.npy", KMT_EXPORT_NPY, rig), ("f.glb", KMT_EXPORT_AUTO, rig),
            ("g.data", KMT_EXPORT_JSON, rig), ("h.txt", KMT_EXPORT_CSV, nil), ("i.bin", KMT_EXPORT_GLB, rig),
            ("j.glb", KMT_EXPORT_GLB_SPARSE, rig),
        ]
        let formats: [String: kmt_export_format] = ["json": KMT_EXPORT_JSON, "csv": KMT_EXPORT_CSV, "npy": KMT_EXPORT_NPY, "glb": KMT_EXPORT_GLB]
        for (name, format, rigArgument) in cases {
            let path = directory.appendingPathComponent(name).path
            #expect(kmt_animation_save(animation, rigArgument, path, format) == KMT_OK, "\(name): \(lastError)")
            #expect(lastError == "")
            let inMemoryFormat = format == KMT_EXPORT_AUTO ? try need(formats[String(name.split(separator: ".")[1])]) : format
            let saved = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(saved == (try memoryBytes(animation, rigArgument, inMemoryFormat)), "\(name)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == cases.count, "no temporary files left")
        let liveLink = try String(contentsOfFile: directory.appendingPathComponent("c.csv").path, encoding: .utf8)
        #expect(liveLink.hasPrefix("Timecode,BlendshapeCount,EyeBlinkLeft,"))
    }

    @Test func sequencesThroughTheCAPI() throws {
        let animation = animationHandle(frames: 3)
        defer { kmt_animation_free(animation) }
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(kmt_animation_save(animation, rig, directory.appendingPathComponent("f.obj").path, KMT_EXPORT_AUTO) == KMT_OK, "\(lastError)")
        #expect(kmt_animation_save(animation, rig, directory.appendingPathComponent("g.mesh").path, KMT_EXPORT_PLY) == KMT_OK, "\(lastError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == [
            "f_000001.obj", "f_000002.obj", "f_000003.obj", "g_000001.mesh", "g_000002.mesh", "g_000003.mesh",
        ])
    }

    @Test func badInputsGiveClearStatuses() throws {
        let animation = animationHandle()
        defer { kmt_animation_free(animation) }
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.json").path

        func expect(_ status: kmt_status, _ expected: kmt_status, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(status == expected, "status \(status.rawValue): \(lastError)", sourceLocation: sourceLocation)
            #expect(lastError.contains(fragment), "'\(lastError)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        }
        expect(kmt_animation_save(nil, nil, path, KMT_EXPORT_JSON), KMT_ERR_INVALID_ARGUMENT, "animation is NULL")
        expect(kmt_animation_save(animation, nil, nil, KMT_EXPORT_JSON), KMT_ERR_INVALID_ARGUMENT, "path is NULL")
        expect(kmt_animation_save(animation, nil, "", KMT_EXPORT_JSON), KMT_ERR_INVALID_ARGUMENT, "path is empty")
        expect(kmt_animation_save(animation, nil, path, kmt_export_format(rawValue: 99)), KMT_ERR_INVALID_ARGUMENT, "format 99")
        expect(kmt_animation_save(animation, nil, directory.appendingPathComponent("out.txt").path, KMT_EXPORT_AUTO),
               KMT_ERR_INVALID_ARGUMENT, "out.txt: cannot tell the export format")
        expect(kmt_animation_save(animation, nil, directory.appendingPathComponent("x.glb").path, KMT_EXPORT_AUTO),
               KMT_ERR_INVALID_ARGUMENT, "GLB export needs a rig")
        expect(kmt_animation_save(animation, nil, directory.appendingPathComponent("x.obj").path, KMT_EXPORT_OBJ),
               KMT_ERR_INVALID_ARGUMENT, "OBJ export needs a rig")
        expect(kmt_animation_save(animation, nil, directory.appendingPathComponent("x.ply").path, KMT_EXPORT_AUTO),
               KMT_ERR_INVALID_ARGUMENT, "PLY export needs a rig")
        let missing = directory.appendingPathComponent("no/such/dir/out.glb").path
        expect(kmt_animation_save(animation, rig, missing, KMT_EXPORT_AUTO), KMT_ERR_IO, missing)
        #expect(lastError.contains("No such file or directory"))
        let underAFile = "/etc/hostname/out.json"
        expect(kmt_animation_save(animation, nil, underAFile, KMT_EXPORT_AUTO), KMT_ERR_IO, underAFile)
        expect(kmt_animation_save(animation, nil, directory.path, KMT_EXPORT_JSON), KMT_ERR_IO, "is a directory")
        let fractional = animationHandle(fps: 29.97)
        defer { kmt_animation_free(fractional) }
        expect(kmt_animation_save(fractional, nil, path, KMT_EXPORT_LIVE_LINK_CSV), KMT_ERR_INVALID_ARGUMENT, "whole frames")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing written by a failed call")

        // In memory.
        var size = 123
        var byte: UInt8 = 0
        expect(kmt_animation_save_to_memory(nil, nil, KMT_EXPORT_JSON, nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "animation is NULL")
        #expect(size == 0)
        expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_AUTO, nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "KMT_EXPORT_AUTO")
        expect(kmt_animation_save_to_memory(animation, rig, KMT_EXPORT_OBJ, nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "one file per frame")
        expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_GLB, nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "GLB export needs a rig")
        expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_GLB_SPARSE, nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "GLB export needs a rig")
        expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_PHONES_TSV, nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "no phone track")
        expect(kmt_animation_save_to_memory(animation, nil, kmt_export_format(rawValue: 99), nil, 0, &size), KMT_ERR_INVALID_ARGUMENT, "format 99")
        expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_CSV, &byte, 1, &size), KMT_ERR_BUFFER_TOO_SMALL, "needed")
        #expect(size > 1)
        expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_CSV, nil, 1 << 20, nil), KMT_ERR_INVALID_ARGUMENT, "buffer is NULL")
        #expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_CSV, nil, 0, nil) == KMT_ERR_BUFFER_TOO_SMALL, "out_size may be NULL")
    }

    @Test func aSessionsAnimationCarriesItsSourceAndModel() throws {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK, "\(lastError)")
        defer { kmt_session_free(session) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let wav = directory.appendingPathComponent("speech.wav").path
        #expect(AudioWriter.write(path: wav, format: Int32(0x010000 | 0x0006), rate: 16000, channels: 1,
                                  samples: AudioWriter.sine(frequency: 220, rate: 16000, channels: 1, seconds: 0.5)))
        var animation: OpaquePointer?
        #expect(kmt_animate_file(session, wav, &animation) == KMT_OK, "\(lastError)")
        defer { kmt_animation_free(animation) }
        let json = try memoryBytes(try need(animation), nil, KMT_EXPORT_JSON)
        let object = try need(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(object["source"] as? String == wav)
        #expect(object["model"] as? String == Fixtures.tinyModelPath)
        #expect(object["frame_count"] as? Int == got(0) { kmt_animation_frame_count(animation, $0) })

        var pcmAnimation: OpaquePointer?
        let samples = [Float](repeating: 0.1, count: 8000)
        #expect(kmt_animate_pcm(session, samples, samples.count, 16000, 1, &pcmAnimation) == KMT_OK, "\(lastError)")
        defer { kmt_animation_free(pcmAnimation) }
        let pcmObject = try need(try JSONSerialization.jsonObject(with: Data(try memoryBytes(try need(pcmAnimation), nil, KMT_EXPORT_JSON))) as? [String: Any])
        #expect(pcmObject["source"] == nil && pcmObject["model"] as? String == Fixtures.tinyModelPath)
    }
}
