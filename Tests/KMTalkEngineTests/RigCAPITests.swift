import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The exported rig functions, called exactly as a C host calls them.
@Suite struct RigCAPITests {
    static let shapes = ["jawOpen", "eyeBlink_L", "eyeBlink_R", "browInnerUp_L", "browInnerUp_R", "cheekRaiser_L"]

    var lastError: String { String(cString: kmt_last_error()) }

    /// A rig handle loaded from `builder`'s bytes through the C API.
    func loadRig(_ builder: RigBuilder) throws -> OpaquePointer {
        let bytes = builder.encode()
        var rig: OpaquePointer?
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK, "\(lastError)")
        return try #require(rig)
    }

    /// An animation handle as a session would return it.
    func animationHandle(_ names: [String], frames: Int, seed: UInt64 = 5) -> OpaquePointer {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<(frames * names.count)).map { _ in Float.random(in: 0...1, using: &generator) }
        return Handle.retain(Animation(values: Tensor(shape: [frames, names.count], data: values), fps: 60, channelNames: names))
    }

    @Test func loadsFromFileAndMemoryAndDescribesTheRig() throws {
        let builder = RigBuilder(shapeNames: Self.shapes, vertexCount: 9)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("head.rig.safetensors").path
        try Data(builder.encode()).write(to: URL(fileURLWithPath: path))
        var fromFile: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        #expect(kmt_rig_load_file(path, &fromFile) == KMT_OK, "\(lastError)")
        defer { kmt_rig_free(fromFile) }
        #expect(lastError == "")
        let rig = try loadRig(builder)
        defer { kmt_rig_free(rig) }
        for handle in [fromFile, rig] {
            #expect(got(0) { kmt_rig_vertex_count(handle, $0) } == 9)
            #expect(got(0) { kmt_rig_face_count(handle, $0) } == 7)
            #expect(got(0) { kmt_rig_shape_count(handle, $0) } == 6)
            #expect(gotString { kmt_rig_shape_name(handle, 1, $0) } == "eyeBlink_L")
            var name = UnsafePointer<CChar>(bitPattern: 0xdead)
            #expect(kmt_rig_shape_name(handle, 6, &name) == KMT_ERR_INVALID_ARGUMENT)
            #expect(name == nil && lastError == "shape index 6 is not below the shape count 6")
            #expect(kmt_rig_shape_name(handle, -1, &name) == KMT_ERR_INVALID_ARGUMENT)
            #expect(name == nil && lastError == "shape index \(UInt.max) is not below the shape count 6")
        }

        var length = 0
        #expect(kmt_rig_metadata(rig, "units", nil, 0, &length) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(length == 2)
        var text = [CChar](repeating: 1, count: 3)
        #expect(kmt_rig_metadata(rig, "units", &text, 3, &length) == KMT_OK)
        #expect(text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } == "cm")
        #expect(kmt_rig_metadata(rig, "no-such-key", &text, 3, &length) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("no-such-key"))
        #expect(kmt_rig_metadata(rig, nil, &text, 3, &length) == KMT_ERR_INVALID_ARGUMENT)

        var written = 0
        #expect(kmt_rig_read_vertices(rig, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 27)
        var vertices = [Float](repeating: 0, count: 27)
        #expect(kmt_rig_read_vertices(rig, &vertices, 26, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(lastError.contains("27 needed"))
        #expect(kmt_rig_read_vertices(rig, &vertices, 27, &written) == KMT_OK)
        #expect(vertices == builder.vertices)
        #expect(kmt_rig_read_vertices(rig, nil, 27, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_read_faces(rig, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 21)
        var faces = [Int32](repeating: -1, count: 30)
        #expect(kmt_rig_read_faces(rig, &faces, 30, nil) == KMT_OK)
        #expect(Array(faces.prefix(21)) == builder.faces)
        #expect(faces[21] == -1)

        // Each shape's deltas, V x 3, exactly the file's.
        #expect(kmt_rig_read_deltas(rig, 0, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 27)
        var deltas = [Float](repeating: 0, count: 27)
        for shape in 0..<6 {
            #expect(kmt_rig_read_deltas(rig, shape, &deltas, 27, &written) == KMT_OK)
            #expect(deltas == Array(builder.deltas[(shape * 27)..<((shape + 1) * 27)]), "shape \(shape)")
        }
        #expect(kmt_rig_read_deltas(rig, 6, &deltas, 27, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("6 shapes"))
        #expect(written == 0)
        #expect(kmt_rig_read_deltas(rig, -1, &deltas, 27, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_read_deltas(rig, 0, &deltas, 26, &written) == KMT_ERR_BUFFER_TOO_SMALL)
    }

    @Test func importParamsInitWritesTheCallersSizeOnly() {
        // 40 bytes: the header before the progress fields.
        expectParamsInit(
            kmt_rig_import_params_init,
            byValue: kmt_rig_import_params(
                struct_size: MemoryLayout<kmt_rig_import_params>.size, mesh: nil, neutral: nil, units: nil, flags: 0,
                reserved: 0, progress: nil, progress_user_data: nil),
            name: "kmt_rig_import_params", olderSize: 40, splitSize: 12)
        #expect(MemoryLayout<kmt_rig_import_params>.size == 56)
    }

    @Test func posesAnimationsIntoCallerBuffers() throws {
        let builder = RigBuilder(shapeNames: Self.shapes, vertexCount: 30, seed: 11)
        let rig = try loadRig(builder)
        defer { kmt_rig_free(rig) }
        let animation = animationHandle(ARKitChannels.names, frames: 8)
        defer { kmt_animation_free(animation) }
        let weights = Handle.borrow(animation, as: Animation.self).values.data
        let floatsPerFrame = 90

        var written = 0
        #expect(kmt_animation_vertices(animation, rig, 0, 8, KMT_VERTICES_ABSOLUTE, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 8 * floatsPerFrame)
        var all = [Float](repeating: .nan, count: 8 * floatsPerFrame)
        #expect(kmt_animation_vertices(animation, rig, 0, 8, KMT_VERTICES_ABSOLUTE, &all, all.count, &written) == KMT_OK, "\(lastError)")
        var offsets = [Float](repeating: .nan, count: 8 * floatsPerFrame)
        #expect(kmt_animation_vertices(animation, rig, 0, 8, KMT_VERTICES_OFFSETS, &offsets, offsets.count, nil) == KMT_OK)
        let column = { (name: String) in ARKitChannels.names.firstIndex(of: name)! }
        for frame in 0..<8 {
            let row = Array(weights[(frame * 52)..<(frame * 52 + 52)])
            let shapeWeights = [row[column("jawOpen")], row[column("eyeBlinkLeft")], row[column("eyeBlinkRight")],
                                row[column("browInnerUp")], row[column("browInnerUp")], 0]
            let rows = (frame * floatsPerFrame)..<((frame + 1) * floatsPerFrame)
            #expect(maxAbsDifference(Array(all[rows]), builder.naivePose(shapeWeights: shapeWeights, absolute: true)) < 1e-5)
            #expect(maxAbsDifference(Array(offsets[rows]), builder.naivePose(shapeWeights: shapeWeights, absolute: false)) < 1e-5)
        }

        // A range in the middle is the same frames.
        var part = [Float](repeating: .nan, count: 3 * floatsPerFrame)
        #expect(kmt_animation_vertices(animation, rig, 4, 3, KMT_VERTICES_ABSOLUTE, &part, part.count, &written) == KMT_OK)
        #expect(part == Array(all[(4 * floatsPerFrame)..<(7 * floatsPerFrame)]))
        #expect(written == 3 * floatsPerFrame)
        // Too small by one float: nothing written, the need reported.
        var short = [Float](repeating: -7, count: 3 * floatsPerFrame - 1)
        #expect(kmt_animation_vertices(animation, rig, 4, 3, KMT_VERTICES_ABSOLUTE, &short, short.count, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 3 * floatsPerFrame)
        #expect(short.allSatisfy { $0 == -7 })
        // Zero frames need no buffer.
        #expect(kmt_animation_vertices(animation, rig, 8, 0, KMT_VERTICES_OFFSETS, nil, 0, &written) == KMT_OK)
        #expect(written == 0)
        // Ranges past the end, (size_t)-1 values, an unknown mode.
        #expect(kmt_animation_vertices(animation, rig, 7, 2, KMT_VERTICES_ABSOLUTE, &part, part.count, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("outside the animation's 8 frames"))
        #expect(kmt_animation_vertices(animation, rig, -1, 1, KMT_VERTICES_ABSOLUTE, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_vertices(animation, rig, 0, -1, KMT_VERTICES_ABSOLUTE, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_vertices(animation, rig, Int.max, 2, KMT_VERTICES_ABSOLUTE, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_vertices(animation, rig, 0, 1, kmt_vertex_mode(rawValue: 7), &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("mode 7"))
        #expect(kmt_animation_vertices(animation, rig, 0, 1, KMT_VERTICES_ABSOLUTE, nil, part.count, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError == "buffer is NULL")
        // A size_t capacity above Int.max is plenty.
        #expect(kmt_animation_vertices(animation, rig, 0, 1, KMT_VERTICES_ABSOLUTE, &part, -1, nil) == KMT_OK)
        #expect(Array(part.prefix(floatsPerFrame)) == Array(all.prefix(floatsPerFrame)))
    }

    @Test func reportsWhatStayedUnmatched() throws {
        let rig = try loadRig(RigBuilder(shapeNames: Self.shapes))
        defer { kmt_rig_free(rig) }
        let channels = ["eyeBlinkRight", "tongueOut", "browInnerUp", "JawOpen", "cheekPuff"]
        let animation = animationHandle(channels, frames: 2)
        defer { kmt_animation_free(animation) }

        var count = 0
        #expect(kmt_rig_unmatched_channels(rig, animation, nil, 0, &count) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(count == 2)
        var indices = [Int](repeating: -1, count: 4)
        #expect(kmt_rig_unmatched_channels(rig, animation, &indices, indices.count, &count) == KMT_OK)
        #expect(Array(indices.prefix(count)).map { index in gotString { kmt_animation_channel_name(animation, index, $0) } } == ["tongueOut", "cheekPuff"])
        #expect(kmt_rig_unmatched_shapes(rig, animation, nil, 0, &count) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(count == 2)
        #expect(kmt_rig_unmatched_shapes(rig, animation, &indices, indices.count, &count) == KMT_OK)
        #expect(Array(indices.prefix(count)).map { index in gotString { kmt_rig_shape_name(rig, index, $0) } } == ["eyeBlink_L", "cheekRaiser_L"])

        var written = 0
        #expect(kmt_rig_shape_channels(rig, animation, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == 6)
        var drivers = [Int32](repeating: 99, count: 6)
        #expect(kmt_rig_shape_channels(rig, animation, &drivers, 6, &written) == KMT_OK)
        #expect(drivers == [3, -1, 0, 2, 2, -1])

        // Everything matched: zero entries, no buffer needed.
        let exact = animationHandle(Self.shapes, frames: 1)
        defer { kmt_animation_free(exact) }
        #expect(kmt_rig_unmatched_channels(rig, exact, nil, 0, &count) == KMT_OK)
        #expect(count == 0)
        #expect(kmt_rig_unmatched_shapes(rig, exact, nil, 0, &count) == KMT_OK)
        #expect(count == 0)
    }

    @Test func nullArgumentsAreRejectedAndOutParametersCleared() throws {
        var rig: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        #expect(kmt_rig_load_file(nil, &rig) == KMT_ERR_INVALID_ARGUMENT)
        #expect(rig == nil)
        #expect(lastError == "path is NULL")
        #expect(kmt_rig_load_file("/nonexistent/head.rig.safetensors", nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError == "out_rig is NULL")
        rig = OpaquePointer(bitPattern: 0xdead)
        #expect(kmt_rig_load_memory(nil, 10, &rig) == KMT_ERR_INVALID_ARGUMENT)
        #expect(rig == nil)
        #expect(kmt_rig_load_memory([1, 2, 3], -1, &rig) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_load_memory([1, 2, 3], 3, nil) == KMT_ERR_INVALID_ARGUMENT)

        // Free accepts NULL; getters refuse it (CAPIGetterTests checks them all).
        kmt_rig_free(nil)
        var count = 7
        #expect(kmt_rig_shape_count(nil, &count) == KMT_ERR_INVALID_ARGUMENT)
        #expect(count == 0 && lastError == "rig is NULL")
        var length = 7
        #expect(kmt_rig_metadata(nil, "units", nil, 0, &length) == KMT_ERR_INVALID_ARGUMENT)
        #expect(length == 0)
        var written = 7
        #expect(kmt_rig_read_vertices(nil, nil, 0, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(written == 0)
        #expect(lastError == "rig is NULL")
        #expect(kmt_rig_read_faces(nil, nil, 0, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_read_deltas(nil, 0, nil, 0, nil) == KMT_ERR_INVALID_ARGUMENT)

        let realRig = try loadRig(RigBuilder(shapeNames: Self.shapes))
        defer { kmt_rig_free(realRig) }
        let animation = animationHandle(["jawOpen"], frames: 2)
        defer { kmt_animation_free(animation) }
        var buffer = [Float](repeating: 0, count: 100)
        written = 7
        #expect(kmt_animation_vertices(nil, realRig, 0, 1, KMT_VERTICES_ABSOLUTE, &buffer, 100, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError == "animation is NULL")
        #expect(written == 0)
        #expect(kmt_animation_vertices(animation, nil, 0, 1, KMT_VERTICES_ABSOLUTE, &buffer, 100, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.hasPrefix("posing this animation needs a rig"), "\(lastError)")
        var indices = [Int](repeating: 0, count: 4)
        var drivers = [Int32](repeating: 0, count: 6)
        #expect(kmt_rig_unmatched_channels(nil, animation, &indices, 4, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_unmatched_channels(realRig, nil, &indices, 4, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_unmatched_shapes(nil, animation, &indices, 4, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_unmatched_shapes(realRig, nil, &indices, 4, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_shape_channels(nil, animation, &drivers, 6, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_shape_channels(realRig, nil, &drivers, 6, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_unmatched_shapes(realRig, animation, nil, 10, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError == "buffer is NULL but buffer_length is 10")
    }

    @Test func brokenRigsGiveTheirStatusAndMessage() throws {
        var rig: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        var builder = RigBuilder(shapeNames: Self.shapes)
        builder.faces[4] = 1000
        let bytes = builder.encode()
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_ERR_CORRUPT_RIG)
        #expect(rig == nil)
        #expect(lastError == "rig buffer: face 1 refers to vertex 1000, outside 0..<7")
        #expect(String(cString: kmt_status_string(KMT_ERR_CORRUPT_RIG)) == "corrupt rig")
        #expect(kmt_rig_load_memory([1, 2, 3], 3, &rig) == KMT_ERR_CORRUPT_RIG)
        #expect(lastError.contains("too short"))
        #expect(kmt_rig_load_file(Fixtures.tinyModelPath, &rig) == KMT_ERR_UNSUPPORTED_FORMAT)
        #expect(lastError.contains("not a KMTalk rig"))
        #expect(kmt_rig_load_file("/nonexistent/head.rig.safetensors", &rig) == KMT_ERR_IO)
        #expect(lastError.hasPrefix("/nonexistent/head.rig.safetensors: "))
    }

    @Test func oneRigServesManyThreads() async throws {
        let builder = RigBuilder(shapeNames: Self.shapes, vertexCount: 50)
        let rig = UInt(bitPattern: try loadRig(builder))
        let animation = UInt(bitPattern: animationHandle(ARKitChannels.names, frames: 20))
        defer {
            kmt_rig_free(OpaquePointer(bitPattern: rig))
            kmt_animation_free(OpaquePointer(bitPattern: animation))
        }
        let results = try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    var vertices = [Float](repeating: 0, count: 20 * 150)
                    let status = kmt_animation_vertices(
                        OpaquePointer(bitPattern: animation), OpaquePointer(bitPattern: rig), 0, 20,
                        KMT_VERTICES_ABSOLUTE, &vertices, vertices.count, nil)
                    guard status == KMT_OK else { throw KMTError(status, String(cString: kmt_last_error())) }
                    return vertices
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 6)
        #expect(results.allSatisfy { $0 == results[0] })
    }

    @Test func importsGLTFAndOBJFoldersAndSavesWhatLoadsBack() throws {
        // glTF: the importer's own test asset, written beside its buffer.
        let (builder, json) = GLTFImporterTests.quadAsset()
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let glb = folder.appendingPathComponent("quad.glb").path
        try Data(builder.glb(json: json)).write(to: URL(fileURLWithPath: glb))
        var rig: OpaquePointer?
        #expect(kmt_rig_import_file(glb, nil, &rig) == KMT_OK, "\(lastError)")
        defer { kmt_rig_free(rig) }
        let expected = try GLTFImporter.importRig(path: glb).rig
        #expect(got(0) { kmt_rig_vertex_count(rig, $0) } == expected.vertexCount && got(0) { kmt_rig_shape_count(rig, $0) } == 2)
        #expect(gotString { kmt_rig_shape_name(rig, 0, $0) } == "jawOpen")

        // Saved whole and as float16, both load back with the same shapes and mesh.
        let saved = folder.appendingPathComponent("quad.rig.safetensors").path
        #expect(kmt_rig_save(rig, saved, 0) == KMT_OK, "\(lastError)")
        let reloaded = try Rig(path: saved)
        #expect(reloaded.vertices == expected.vertices && reloaded.deltas.data == expected.deltas)
        #expect(kmt_rig_save(rig, folder.appendingPathComponent("half.rig.safetensors").path, KMT_RIG_SAVE_HALF) == KMT_OK, "\(lastError)")
        #expect(kmt_rig_save(rig, saved, 4) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_save(nil, saved, 0) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_rig_save(rig, folder.path, 0) == KMT_ERR_IO)

        // An OBJ folder with options: the neutral named, units given, the manifest ignored.
        let objs = try OBJFolderImporterTests.folder([
            "base.obj": OBJFolderImporterTests.obj(OBJFolderImporterTests.neutral, faces: OBJFolderImporterTests.faces),
            "jawOpen.obj": OBJFolderImporterTests.obj(OBJFolderImporterTests.moved(4, by: [0, -0.5, 0]), faces: OBJFolderImporterTests.faces),
        ])
        defer { try? FileManager.default.removeItem(at: objs) }
        var params: kmt_rig_import_params = initialized(kmt_rig_import_params_init)
        var fromOBJ: OpaquePointer?
        #expect(kmt_rig_import_file(objs.path, &params, &fromOBJ) == KMT_ERR_INVALID_ARGUMENT)  // no *neutral*
        #expect(lastError.contains("--neutral") || lastError.contains("neutral"), "\(lastError)")
        let units = strdup("cm")!, neutral = strdup("base.obj")!, inch = strdup("inch")!
        defer { free(units); free(neutral); free(inch) }
        params.neutral = UnsafePointer(neutral)
        params.units = UnsafePointer(inch)
        #expect(kmt_rig_import_file(objs.path, &params, &fromOBJ) == KMT_ERR_INVALID_ARGUMENT)
        params.units = UnsafePointer(units)
        params.flags = 8
        #expect(kmt_rig_import_file(objs.path, &params, &fromOBJ) == KMT_ERR_INVALID_ARGUMENT)
        params.flags = KMT_RIG_IMPORT_ALL_OBJS
        #expect(kmt_rig_import_file(objs.path, &params, &fromOBJ) == KMT_OK, "\(lastError)")
        defer { kmt_rig_free(fromOBJ) }
        #expect(got(0) { kmt_rig_shape_count(fromOBJ, $0) } == 1 && got(0) { kmt_rig_vertex_count(fromOBJ, $0) } == 6)
        #expect(Handle.borrow(try #require(fromOBJ), as: Rig.self).units == .centimeters)
        #expect(kmt_rig_import_file("", nil, &fromOBJ) == KMT_ERR_INVALID_ARGUMENT)
    }
}
