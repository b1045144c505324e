import CKMTalk
import Foundation
import Glibc
import Testing

@testable import KMTalkEngine

/// Regressions of the hardening audit (issue 13): input that once hung, trapped, read
/// outside its asset or got an inconsistent status, called through the C API as a host
/// calls it.
@Suite struct HardeningTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// A FIFO in a fresh folder (nothing ever writes to it: opening it for reading the
    /// usual way blocks forever).
    func makeFIFO() throws -> (URL, String) {
        let folder = try Fixtures.temporaryDirectory()
        let path = folder.appendingPathComponent("pipe.safetensors").path
        #expect(mkfifo(path, 0o600) == 0)
        return (folder, path)
    }

    @Test func nonRegularPathsAreRefusedAtOnceEverywhere() throws {
        let (folder, fifo) = try makeFIFO()
        defer { try? FileManager.default.removeItem(at: folder) }
        var model: OpaquePointer?
        #expect(kmt_model_load_file(fifo, nil, &model) == KMT_ERR_IO)
        #expect(lastError.contains("FIFO") && lastError.contains("not a regular file"), "\(lastError)")
        var rig: OpaquePointer?
        #expect(kmt_rig_load_file(fifo, &rig) == KMT_ERR_IO)
        #expect(lastError.contains("FIFO"), "\(lastError)")
        #expect(kmt_rig_load_file("/dev/zero", &rig) == KMT_ERR_IO)
        #expect(lastError.contains("character device"), "\(lastError)")
        #expect(throws: KMTError.self) { try GLTFImporter.importRig(path: fifo) }
        // A glTF whose buffer is a FIFO beside it: refused, not a blocked read.
        let (builder, json) = GLTFImporterTests.quadAsset()
        #expect(mkfifo(folder.appendingPathComponent("buffer.bin").path, 0o600) == 0)
        let gltf = folder.appendingPathComponent("quad.gltf").path
        try builder.json(meshes: GLTFImporterTests.meshesOf(json), nodes: GLTFImporterTests.nodesOf(json), uri: "buffer.bin")
            .write(toFile: gltf, atomically: true, encoding: .utf8)
        #expect { try GLTFImporter.importRig(path: gltf) } throws: {
            ($0 as? KMTError)?.status == KMT_ERR_IO && ($0 as? KMTError)?.message.contains("FIFO") == true
        }

        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        var animation: OpaquePointer?
        #expect(kmt_animate_file(session, fifo, &animation) == KMT_ERR_IO)
        #expect(lastError.contains("FIFO") && !lastError.contains("empty"), "\(lastError)")
    }

    @Test func filesAreSizedBeforeTheyAreRead() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Sparse files: no disk used, and the loaders must not read them whole.
        func sparse(_ name: String, bytes: Int) -> String {
            let path = folder.appendingPathComponent(name).path
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            #expect(descriptor >= 0 && ftruncate(descriptor, off_t(bytes)) == 0)
            close(descriptor)
            return path
        }
        let huge = sparse("huge.safetensors", bytes: FileBytes.sizeLimit + 1)
        let zeros = sparse("zeros.safetensors", bytes: 2 << 30)
        var model: OpaquePointer?
        let started = Date()
        #expect(kmt_model_load_file(huge, nil, &model) == KMT_ERR_OUT_OF_MEMORY)
        #expect(lastError.contains("over the limit of 4294967296 bytes (4.0 GiB)"), "\(lastError)")
        #expect(kmt_model_load_file(zeros, nil, &model) == KMT_ERR_CORRUPT_MODEL)
        #expect(lastError.contains("not a KMTalk model file") && lastError.contains("not a JSON object"), "\(lastError)")
        var rig: OpaquePointer?
        #expect(kmt_rig_load_file(zeros, &rig) == KMT_ERR_CORRUPT_RIG)
        #expect(throws: KMTError.self) { try GLTFImporter.importRig(path: huge) }
        // Refused from the header alone: far faster than reading 2 GiB.
        #expect(Date().timeIntervalSince(started) < 2, "took \(Date().timeIntervalSince(started)) s")
        #expect(FileBytes.describe(bytes: 3 << 30) == "3.0 GiB" && FileBytes.describe(bytes: 512) == "512 bytes")
    }

    @Test func weightsTheNetworkCannotUseAreACorruptModel() throws {
        let file = try SafeTensorsFile(path: Fixtures.tinyModelPath)
        let target = try #require(file.names.first { ($0.hasSuffix(".weight")) && file.tensors[$0] != nil })
        let entries = try file.names.map { name -> SafeTensorsEncoder.Entry in
            let tensor = try #require(file.tensors[name])
            let values = name == target ? [Float](repeating: 3e38, count: tensor.count) : tensor.data
            return .float32(name, shape: tensor.shape, values)
        }
        let bytes = try SafeTensorsEncoder(entries: entries, metadata: file.metadata).encode()
        var model: OpaquePointer?
        #expect(kmt_model_load_memory(bytes, bytes.count, nil, &model) == KMT_ERR_CORRUPT_MODEL)
        #expect(model == nil)
        #expect(lastError.contains("non-finite") && lastError.contains(target), "\(lastError)")
    }

    @Test func pcmArgumentsGetTheSameStatusFromEveryCall() throws {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        let pcm = [Float](repeating: 0.1, count: 4096)
        var animation: OpaquePointer?
        for (rate, channels, expected) in [(16_000, 0, KMT_ERR_INVALID_ARGUMENT), (16_000, 2000, KMT_ERR_INVALID_ARGUMENT),
                                           (16_000, -1, KMT_ERR_INVALID_ARGUMENT), (4_000, 1, KMT_ERR_INVALID_AUDIO),
                                           (400_000, 1, KMT_ERR_INVALID_AUDIO)] {
            let offline = kmt_animate_pcm(session, pcm, 100, Int32(rate), Int32(channels), &animation)
            let streamed = kmt_session_push_f32(session, pcm, 100, Int32(rate), Int32(channels))
            #expect(offline == expected && streamed == expected, "rate \(rate) channels \(channels): \(offline) vs \(streamed)")
        }
        // One frame at 48 kHz is a third of a model-rate sample: both paths animate it.
        #expect(kmt_animate_pcm(session, pcm, 1, 48_000, 1, &animation) == KMT_OK, "\(lastError)")
        #expect(got(0) { kmt_animation_frame_count(animation, $0) } >= 1)
        kmt_animation_free(animation)
        #expect(kmt_session_reset(session) == KMT_OK)
        #expect(kmt_session_push_f32(session, pcm, 1, 48_000, 1) == KMT_OK)
        #expect(kmt_session_flush(session) == KMT_OK)
        var pending = 0
        #expect(kmt_session_pending_frames(session, &pending) == KMT_OK && pending >= 1)
    }

    @Test func pullWithABufferThatHoldsNoFrameSaysHowMuchIsNeeded() throws {
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        var frames = 0
        var small = [Float](repeating: 0, count: 10)
        // Nothing pending: OK with 0 frames, whatever the buffer.
        #expect(kmt_session_pull(session, &small, small.count, &frames, nil) == KMT_OK && frames == 0)
        let pcm = (0..<16_000).map { Float(sin(Double($0) * 0.05)) * 0.3 }
        #expect(kmt_session_push_f32(session, pcm, pcm.count, 16_000, 1) == KMT_OK)
        #expect(kmt_session_flush(session) == KMT_OK)
        #expect(kmt_session_pull(session, &small, small.count, &frames, nil) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(lastError.contains("one frame is 52 floats"), "\(lastError)")
        #expect(kmt_session_pull(session, nil, 0, &frames, nil) == KMT_ERR_BUFFER_TOO_SMALL)
        var pending = 0
        #expect(kmt_session_pending_frames(session, &pending) == KMT_OK && pending > 0)
        var buffer = [Float](repeating: 0, count: 52 * pending)
        #expect(kmt_session_pull(session, &buffer, buffer.count, &frames, nil) == KMT_OK && frames == pending)
    }

    @Test func commonMistakesGetErrorsThatSayWhatToDo() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A GLB given as a rig or as a model.
        let (builder, json) = GLTFImporterTests.quadAsset()
        let glb = folder.appendingPathComponent("head.glb").path
        try Data(builder.glb(json: json)).write(to: URL(fileURLWithPath: glb))
        var rig: OpaquePointer?
        #expect(kmt_rig_load_file(glb, &rig) == KMT_ERR_UNSUPPORTED_FORMAT)
        #expect(lastError.contains("not a KMTalk rig file") && lastError.contains("rig import-gltf"), "\(lastError)")
        var model: OpaquePointer?
        #expect(kmt_model_load_file(glb, nil, &model) == KMT_ERR_UNSUPPORTED_FORMAT)
        #expect(lastError.contains("not a KMTalk model file"), "\(lastError)")

        #expect(kmt_model_load_file(Fixtures.tinyModelPath, nil, &model) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        // MP4/AAC audio: say how to extract the speech.
        var mp4 = [UInt8](repeating: 0, count: 64)
        mp4.replaceSubrange(4..<12, with: Array("ftypM4A ".utf8))
        let m4a = folder.appendingPathComponent("voice.m4a").path
        try Data(mp4).write(to: URL(fileURLWithPath: m4a))
        var animation: OpaquePointer?
        #expect(kmt_animate_file(session, m4a, &animation) == KMT_ERR_UNSUPPORTED_FORMAT)
        #expect(lastError.contains("ffmpeg -i voice.m4a"), "\(lastError)")

        // A rig none of whose shapes the animation drives: an error, not a file that never moves.
        let content = RigContent(
            vertices: [0, 0, 0, 1, 0, 0, 0, 1, 0], faces: [0, 1, 2], shapeNames: ["smileWide", "frownDeep"],
            deltas: [Float](repeating: 0.01, count: 18), units: .meters)
        let odd = try Rig(bytes: RigWriter.encode(content).bytes, source: "odd.rig")
        let pcm = [Float](repeating: 0.1, count: 8_000)
        #expect(kmt_animate_pcm(session, pcm, pcm.count, 16_000, 1, &animation) == KMT_OK)
        defer { kmt_animation_free(animation) }
        let oddHandle = Handle.retain(odd)
        defer { kmt_rig_free(oddHandle) }
        let out = folder.appendingPathComponent("still.glb").path
        #expect(kmt_animation_save(animation, oddHandle, out, KMT_EXPORT_GLB) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("match none of the animation's 52 channels"), "\(lastError)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
