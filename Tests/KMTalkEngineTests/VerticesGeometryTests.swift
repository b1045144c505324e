import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Animations of vertices-space models pose their own template: `kmt_animation_vertices`
/// with a NULL rig, the template's faces through the C API, NPY / OBJ / PLY exports
/// without a rig, and the errors for the mismatched cases (a rig given, weights without
/// one, Live Link CSV), and GLB as morph targets of the motion's principal directions.
@Suite struct VerticesGeometryTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// The vertices fixture animated through the C API from its golden samples, with the
    /// golden file.
    func fixtureAnimation() throws -> (animation: OpaquePointer, golden: SafeTensorsFile) {
        let golden = try Fixtures.golden("vertices_golden.safetensors")
        let samples = try golden.tensor("samples").data
        var model: OpaquePointer?
        #expect(kmt_model_load_file(Fixtures.path(VerticesModelTests.modelName), nil, &model) == KMT_OK, "\(lastError)")
        defer { kmt_model_free(model) }
        var session: OpaquePointer?
        #expect(kmt_session_create(model, nil, &session) == KMT_OK, "\(lastError)")
        defer { kmt_session_free(session) }
        var animation: OpaquePointer?
        #expect(kmt_animate_pcm(session, samples, samples.count, 16_000, 1, &animation) == KMT_OK, "\(lastError)")
        return (try #require(animation), golden)
    }

    /// A small vertices-space animation: a 5-vertex template (with or without faces) in
    /// mm and `frames` frames of random offsets.
    static func smallAnimation(faces: Bool = true, frames: Int = 40) throws -> Animation {
        let template = try VertexTemplate(
            vertices: [0, 0, 0, 10, 0, 0, 10, 10, 0, 0, 10, 0, 5, 5, 4],
            faces: faces ? [0, 1, 4, 1, 2, 4, 2, 3, 4, 3, 0, 4] : [], units: .millimeters)
        var generator = SeededGenerator(seed: 3)
        let values = (0..<(frames * 15)).map { _ in Float.random(in: -1...1, using: &generator) }
        return try Animation(values: Tensor(shape: [frames, 15], data: values), fps: 60, template: template, source: "a.wav", model: "m")
    }

    @Test func verticesWithoutARigAreTemplatePlusMotion() throws {
        let (animation, golden) = try fixtureAnimation()
        defer { kmt_animation_free(animation) }
        let model = try KMTalkModel(path: Fixtures.path(VerticesModelTests.modelName))
        let template = try #require(model.template)
        #expect(got(0) { kmt_animation_vertex_count(animation, $0) } == 48 && got(0) { kmt_animation_channel_count(animation, $0) } == 144)
        #expect(gotString { kmt_animation_channel_name(animation, 143, $0) } == "v47.z")
        let frames = got(0) { kmt_animation_frame_count(animation, $0) }
        #expect(frames == (try golden.tensor("motion")).shape[0])

        var values = [Float](repeating: 0, count: frames * 144)
        #expect(kmt_animation_read_frames(animation, 0, frames, &values, values.count, nil) == KMT_OK)
        var written = 0
        #expect(kmt_animation_vertices(animation, nil, 0, frames, KMT_VERTICES_ABSOLUTE, nil, 0, &written) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(written == frames * 144)
        var absolute = [Float](repeating: 0, count: written)
        #expect(kmt_animation_vertices(animation, nil, 0, frames, KMT_VERTICES_ABSOLUTE, &absolute, absolute.count, &written) == KMT_OK, "\(lastError)")
        var offsets = [Float](repeating: 0, count: written)
        #expect(kmt_animation_vertices(animation, nil, 0, frames, KMT_VERTICES_OFFSETS, &offsets, offsets.count, nil) == KMT_OK)
        #expect(offsets == values, "offsets are the animation's values")
        var worst: Float = 0
        for index in absolute.indices {
            #expect(absolute[index] == template.vertices[index % 144] + values[index])
            worst = max(worst, abs(absolute[index] - (try golden.tensor("vertices")).data[index]))
        }
        #expect(worst < 1e-3, "posed vertices vs the NumPy golden: \(worst)")
        // A frame range, and the faces.
        var part = [Float](repeating: 0, count: 3 * 144)
        #expect(kmt_animation_vertices(animation, nil, 5, 3, KMT_VERTICES_ABSOLUTE, &part, part.count, nil) == KMT_OK)
        #expect(part == Array(absolute[(5 * 144)..<(8 * 144)]))
        #expect(kmt_animation_vertices(animation, nil, frames - 1, 2, KMT_VERTICES_ABSOLUTE, &part, part.count, nil) == KMT_ERR_INVALID_ARGUMENT)
        var faceCount = 0
        #expect(kmt_animation_read_faces(animation, nil, 0, &faceCount) == KMT_ERR_BUFFER_TOO_SMALL && faceCount == 210)
        var faces = [Int32](repeating: -1, count: faceCount)
        #expect(kmt_animation_read_faces(animation, &faces, faces.count, &faceCount) == KMT_OK)
        #expect(faces == template.faces)
    }

    @Test func mismatchedRigsAndAnimationsAreRefused() throws {
        let (animation, _) = try fixtureAnimation()
        defer { kmt_animation_free(animation) }
        let (builder, _) = try ExportFixtures.rig()
        let bytes = builder.encode()
        var rig: OpaquePointer?
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK)
        defer { kmt_rig_free(rig) }
        var buffer = [Float](repeating: 0, count: 1000)
        var written = 7
        // A rig with a vertices-space animation.
        #expect(kmt_animation_vertices(animation, rig, 0, 1, KMT_VERTICES_ABSOLUTE, &buffer, buffer.count, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("vertices-space") && lastError.contains("pass no rig"), "\(lastError)")
        #expect(written == 0)
        // Weights without a rig.
        let weights = Handle.retain(ExportFixtures.animation(frames: 3))
        defer { kmt_animation_free(weights) }
        #expect(kmt_animation_vertices(weights, nil, 0, 1, KMT_VERTICES_ABSOLUTE, &buffer, buffer.count, &written) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("needs a rig"), "\(lastError)")
        #expect(kmt_animation_vertices(weights, rig, 0, 1, KMT_VERTICES_ABSOLUTE, &buffer, buffer.count, &written) == KMT_OK)
        var vertexCount = 7
        #expect(kmt_animation_vertex_count(weights, &vertexCount) == KMT_OK && vertexCount == 0)
        #expect(kmt_animation_vertex_count(nil, &vertexCount) == KMT_ERR_INVALID_ARGUMENT && vertexCount == 0)
        var faces = [Int32](repeating: 0, count: 10)
        written = 7
        #expect(kmt_animation_read_faces(weights, &faces, faces.count, &written) == KMT_ERR_INVALID_ARGUMENT && written == 0)
        #expect(kmt_animation_read_faces(nil, &faces, faces.count, &written) == KMT_ERR_INVALID_ARGUMENT)
        // Exports through the C API: a rig is refused, none is fine.
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let npy = directory.appendingPathComponent("v.npy").path
        #expect(kmt_animation_save(animation, rig, npy, KMT_EXPORT_AUTO) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("pass no rig"), "\(lastError)")
        #expect(kmt_animation_save(animation, nil, npy, KMT_EXPORT_AUTO) == KMT_OK, "\(lastError)")
        #expect(kmt_animation_save(animation, rig, directory.appendingPathComponent("v.obj").path, KMT_EXPORT_AUTO) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_save(animation, nil, directory.appendingPathComponent("v.obj").path, KMT_EXPORT_AUTO) == KMT_OK, "\(lastError)")
        for withRig in [false, true] {
            var size = 0
            #expect(kmt_animation_save_to_memory(animation, withRig ? rig : nil, KMT_EXPORT_LIVE_LINK_CSV, nil, 0, &size) == KMT_ERR_INVALID_ARGUMENT)
            #expect(lastError.contains("OBJ, PLY or NPY"), "\(lastError)")
        }
        // GLB: the motion as morph targets, with no rig (a rig is refused).
        var size = 0
        #expect(kmt_animation_save_to_memory(animation, rig, KMT_EXPORT_GLB, nil, 0, &size) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("pass no rig"), "\(lastError)")
        #expect(kmt_animation_save(animation, nil, directory.appendingPathComponent("v.glb").path, KMT_EXPORT_AUTO) == KMT_OK, "\(lastError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().filter { !$0.hasPrefix("v_") } == ["v.glb", "v.npy"])
    }

    @Test func glbOfAVerticesAnimationReplaysItThroughMorphTargets() throws {
        // Random offsets of 5 vertices have full rank (15): 15 targets, exact replay.
        let animation = try Self.smallAnimation(frames: 40)
        let bytes = try AnimationExporter.encode(animation, rig: nil, format: .glb)
        let document = try GLTFDocument(bytes: bytes, source: "v.glb", folder: nil)
        let primitive = try #require(document.json["meshes"]?.arrayValue?.first?["primitives"]?.arrayValue?.first)
        let neutral = try document.floats(accessor: try #require(primitive["attributes"]?["POSITION"]?.integerValue), types: ["VEC3"], what: "neutral").values
        let targetAccessors = try #require(primitive["targets"]?.arrayValue).compactMap { $0["POSITION"]?.integerValue }
        let targets = try targetAccessors.map { try document.floats(accessor: $0, types: ["VEC3"], what: "target").values }
        let sampler = try #require(document.json["animations"]?.arrayValue?.first?["samplers"]?.arrayValue?.first)
        let weights = try document.floats(accessor: try #require(sampler["output"]?.integerValue), types: ["SCALAR"], what: "weights").values
        #expect(targets.count == 15 && weights.count == 40 * 15)
        #expect(weights.allSatisfy { $0 >= 0 && $0 <= 1 })
        let expected = try AnimationMesh(animation: animation, rig: nil).vertices(of: animation, frames: 0..<40, mode: .absolute)
        var largest: Float = 0
        for frame in 0..<40 {
            for j in 0..<15 {
                var value = neutral[j]
                for k in 0..<15 { value += weights[frame * 15 + k] * targets[k][j] }
                largest = max(largest, abs(value * 1000 - expected[frame * 15 + j]))  // glTF metres, template mm
            }
        }
        #expect(largest < 1e-3, "largest error \(largest) mm")
        // Motion of lower rank needs fewer targets: 3 directions, 3 targets.
        let low = try Self.rankThreeAnimation(frames: 50)
        let basis = VertexMotionBasis.fit(offsets: low.values.data, frames: 50, template: low.template!.vertices)
        #expect(basis.count == 3 && basis.largestError < 1e-4)
        // A point-set template cannot be a glTF mesh.
        #expect(throws: KMTError.self) { try AnimationExporter.encode(try Self.smallAnimation(faces: false), rig: nil, format: .glb) }
    }

    /// Offsets that move along three fixed directions (plus a constant): rank 3.
    static func rankThreeAnimation(frames: Int) throws -> Animation {
        let base = try smallAnimation(frames: 4)
        let directions = base.values.data
        var values = [Float](repeating: 0, count: frames * 15)
        for frame in 0..<frames {
            let t = Float(frame) / Float(frames)
            let weights: [Float] = [sin(7 * t), cos(3 * t) * 0.5, t * t, 0.2]
            for j in 0..<15 {
                values[frame * 15 + j] = weights[0] * directions[j] + weights[1] * directions[15 + j] + weights[2] * directions[30 + j] + weights[3] * directions[45 + j]
            }
        }
        return try Animation(values: Tensor(shape: [frames, 15], data: values), fps: 30, template: base.template!, source: nil, model: nil)
    }

    @Test func npyOfAVerticesAnimationHoldsPositions() throws {
        let animation = try Self.smallAnimation(frames: 70)
        let bytes = try AnimationExporter.encode(animation, rig: nil, format: .npy)
        let (header, dataStart) = try ExportWeightsTests().parseNPY(bytes)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (70, 5, 3), }"))
        let expected = try AnimationMesh(animation: animation, rig: nil).vertices(of: animation, frames: 0..<70, mode: .absolute)
        #expect(bytes.count - dataStart == 70 * 15 * 4)
        let floats = try ByteReader(bytes: bytes).floats(dataStart, count: 70 * 15)
        #expect(floats == expected)
        let template = try #require(animation.template)
        #expect(floats[15 + 4] == template.vertices[4] + animation.values.data[15 + 4])
        // The weight formats write the offsets as channels.
        let csv = String(decoding: try AnimationExporter.encode(animation, rig: nil, format: .csv), as: UTF8.self)
        #expect(csv.hasPrefix("time,v0.x,v0.y,v0.z,v1.x,"))
        let json = try AnimationExporter.encode(animation, rig: nil, format: .json)
        #expect(String(decoding: json, as: UTF8.self).contains("\"v4.z\""))
    }

    @Test(arguments: [ExportFormat.obj, .ply], [true, false])
    func sequencesOfAVerticesAnimation(format: ExportFormat, withFaces: Bool) throws {
        let animation = try Self.smallAnimation(faces: withFaces, frames: 40)
        let template = try #require(animation.template)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try AnimationExporter.save(animation, rig: nil, path: directory.appendingPathComponent("m.\(format.rawValue)").path, format: nil)
        #expect(written.count == 40)
        let expected = try AnimationMesh(animation: animation, rig: nil).vertices(of: animation, frames: 0..<40, mode: .absolute)
        let reader = ExportSequenceTests()
        for frame in [0, 31, 32, 39] {
            let slice = Array(expected[(frame * 15)..<((frame + 1) * 15)])
            if format == .obj {
                let parsed = try reader.parseOBJ(written[frame])
                #expect(parsed.vertices == slice, "frame \(frame)")
                #expect(parsed.faces == template.faces.map { Int($0) + 1 } && parsed.uvs.isEmpty)
                let text = try String(contentsOfFile: written[frame], encoding: .utf8)
                #expect(text.hasPrefix("# KMTalk") && text.contains("units mm"))
                #expect(text.contains("\nf ") == withFaces)
            } else {
                let parsed = try reader.parsePLY(written[frame])
                #expect(parsed.vertices == slice, "frame \(frame)")
                #expect(parsed.faces == template.faces.map { Int($0) } && parsed.uvs.isEmpty)
                #expect(parsed.header.contains("comment units mm"))
                #expect(parsed.header.contains { $0.hasPrefix("element face") } == withFaces)
            }
        }
        // A rig is refused and nothing is written.
        let (_, rig) = try ExportFixtures.rig()
        #expect(throws: KMTError.self) {
            try AnimationExporter.save(animation, rig: rig, path: directory.appendingPathComponent("r.\(format.rawValue)").path, format: nil)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 40)
    }

    @Test func meshesComeFromTheRightSource() throws {
        let vertices = try Self.smallAnimation(frames: 3)
        let weights = ExportFixtures.animation(frames: 3)
        let (_, rig) = try ExportFixtures.rig()
        let templateMesh = try AnimationMesh(animation: vertices, rig: nil)
        #expect(templateMesh.vertexCount == 5 && templateMesh.faceCount == 4 && templateMesh.units == .millimeters)
        let rigMesh = try AnimationMesh(animation: weights, rig: rig)
        #expect(rigMesh.vertexCount == rig.vertexCount && rigMesh.faces == rig.faces && rigMesh.uvs == rig.uvs)
        #expect(try rigMesh.vertices(of: weights, frames: 0..<3, mode: .offsets)
            == VertexSolver(rig: rig, channelNames: weights.channelNames).vertices(of: weights, frames: 0..<3, mode: .offsets))
        #expect(throws: KMTError.self) { try AnimationMesh(animation: vertices, rig: rig) }
        #expect(throws: KMTError.self) { try AnimationMesh(animation: weights, rig: nil) }
        // A template mesh refuses another animation's weights.
        #expect(throws: KMTError.self) { try templateMesh.vertices(of: weights, frames: 0..<1, mode: .absolute) }
        #expect(throws: KMTError.self) { try templateMesh.vertices(of: vertices, frames: 2..<4, mode: .absolute) }
        var short = [Float](repeating: 0, count: 14)
        #expect(throws: KMTError.self) {
            try short.withUnsafeMutableBufferPointer { try templateMesh.vertices(of: vertices, frames: 0..<1, mode: .absolute, into: $0) }
        }
    }
}
