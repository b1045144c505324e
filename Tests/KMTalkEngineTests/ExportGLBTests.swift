import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// GLB export, checked by parsing the binary here: chunk layout, every accessor against
/// its buffer view and the BIN chunk, POSITION bounds, alignment, the mesh and its morph
/// targets, and the animation's decoded weights.
@Suite struct ExportGLBTests {
    /// Exports and parses.
    func export(_ animation: Animation, _ rig: Rig, format: ExportFormat = .glb) throws -> ParsedGLB {
        try ParsedGLB(try AnimationExporter.encode(animation, rig: rig, format: format))
    }

    /// Checks every buffer view and accessor of `glb` against each other and the BIN chunk.
    func checkLayout(_ glb: ParsedGLB) throws {
        let buffers = try glb.array("buffers")
        try #require(buffers.count == 1)
        #expect(buffers[0]["uri"] == nil, "a GLB's buffer has no uri")
        let bufferLength = try need(buffers[0]["byteLength"] as? Int)
        #expect(bufferLength <= glb.binary.count && glb.binary.count - bufferLength < 4)
        let views = try glb.array("bufferViews")
        for (index, view) in views.enumerated() {
            let offset = view["byteOffset"] as? Int ?? 0
            let length = try need(view["byteLength"] as? Int)
            #expect(view["buffer"] as? Int == 0)
            #expect(offset % 4 == 0, "view \(index) starts at \(offset)")
            #expect(length > 0 && offset + length <= bufferLength, "view \(index) [\(offset), +\(length)) outside \(bufferLength)")
        }
        for (index, accessor) in try glb.array("accessors").enumerated() {
            if let sparse = accessor["sparse"] as? [String: Any] {
                try checkSparse(glb, accessor: accessor, sparse: sparse, views: views, index: index)
                if accessor["bufferView"] == nil { continue }
            }
            let view = views[try need(accessor["bufferView"] as? Int)]
            let componentType = try need(accessor["componentType"] as? Int)
            let componentSize = try need(ParsedGLB.componentSize(componentType))
            let components = try need(ParsedGLB.componentCount(try need(accessor["type"] as? String)))
            let count = try need(accessor["count"] as? Int)
            let offset = accessor["byteOffset"] as? Int ?? 0
            let elementSize = componentSize * components
            let stride = view["byteStride"] as? Int ?? elementSize
            #expect(count >= 1)
            #expect(offset % componentSize == 0, "accessor \(index) offset \(offset)")
            #expect(((view["byteOffset"] as? Int ?? 0) + offset) % componentSize == 0)
            let viewLength = try need(view["byteLength"] as? Int)
            #expect(offset + stride * (count - 1) + elementSize <= viewLength,
                    "accessor \(index): \(count) x \(elementSize) bytes at \(offset) overrun view of \(viewLength)")
        }
    }

    /// A sparse accessor's indices (strictly increasing, inside the accessor) and values
    /// (inside their view), both views without target or stride as the spec requires.
    func checkSparse(_ glb: ParsedGLB, accessor: [String: Any], sparse: [String: Any], views: [[String: Any]], index: Int) throws {
        let count = try need(accessor["count"] as? Int)
        let sparseCount = try need(sparse["count"] as? Int)
        #expect(sparseCount >= 1 && sparseCount <= count, "accessor \(index): sparse count \(sparseCount)")
        let indices = try glb.sparseIndices(sparse)
        #expect(zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 }, "accessor \(index): indices not increasing")
        #expect(indices.allSatisfy { $0 >= 0 && $0 < count })
        for key in ["indices", "values"] {
            let object = try need(sparse[key] as? [String: Any])
            let view = views[try need(object["bufferView"] as? Int)]
            #expect(view["target"] == nil && view["byteStride"] == nil, "accessor \(index): sparse \(key) view")
            let offset = object["byteOffset"] as? Int ?? 0
            let size = key == "values"
                ? sparseCount * 4 * (try need(ParsedGLB.componentCount(try need(accessor["type"] as? String))))
                : sparseCount * (object["componentType"] as? Int == 5123 ? 2 : 4)
            #expect(offset % (key == "values" ? 4 : (object["componentType"] as? Int == 5123 ? 2 : 4)) == 0)
            #expect(offset + size <= (try need(view["byteLength"] as? Int)), "accessor \(index): sparse \(key) overrun")
        }
    }

    @Test func meshMorphTargetsAndAnimation() throws {
        let (builder, rig) = try ExportFixtures.rig(vertexCount: 13)
        let animation = ExportFixtures.animation(frames: 25, fps: 50)
        let glb = try export(animation, rig)
        try checkLayout(glb)

        let asset = try need(glb.json["asset"] as? [String: Any])
        #expect(asset["version"] as? String == "2.0")
        #expect(asset["generator"] as? String == "KMTalk \(String(cString: kmt_version()))")
        #expect(glb.json["scene"] as? Int == 0)
        #expect(try glb.array("nodes")[0]["mesh"] as? Int == 0)
        // Provenance without local paths; a dielectric skin material (the default is metal).
        let provenance = try need(asset["extras"] as? [String: Any])
        #expect(provenance["model"] as? String == "test.safetensors" && provenance["source"] as? String == "speech \"1\".wav")
        let material = try need(try glb.array("materials").first?["pbrMetallicRoughness"] as? [String: Any])
        #expect(material["metallicFactor"] as? Double == 0)

        let mesh = try glb.array("meshes")[0]
        let primitive = try need((mesh["primitives"] as? [[String: Any]])?.first)
        let attributes = try need(primitive["attributes"] as? [String: Int])
        #expect(Set(attributes.keys) == ["POSITION", "NORMAL", "TEXCOORD_0"])
        #expect(primitive["material"] as? Int == 0)
        let accessors = try glb.array("accessors")

        // Positions in metres (the rig is in cm), bounds exactly the data's.
        let position = try need(attributes["POSITION"])
        let positions = try glb.floats(accessor: position)
        #expect(positions == builder.vertices.map { $0 * 0.01 })
        for (axis, (low, high)) in zip(jsonFloats(accessors[position]["min"]) ?? [], jsonFloats(accessors[position]["max"]) ?? []).enumerated() {
            let values = stride(from: axis, to: positions.count, by: 3).map { positions[$0] }
            #expect(low == values.min() && high == values.max(), "axis \(axis)")
        }
        #expect(jsonFloats(accessors[position]["min"])?.count == 3)

        // Normals unit length; texture coordinates flipped to glTF's v-down.
        let normals = try glb.floats(accessor: try need(attributes["NORMAL"]))
        for vertex in 0..<13 {
            let length = (0..<3).map { normals[vertex * 3 + $0] * normals[vertex * 3 + $0] }.reduce(0, +).squareRoot()
            #expect(abs(length - 1) < 1e-5)
        }
        let uvs = try glb.floats(accessor: try need(attributes["TEXCOORD_0"]))
        let flipped = (0..<(builder.uvs ?? []).count).map { $0 % 2 == 0 ? builder.uvs![$0] : 1 - builder.uvs![$0] }
        #expect(uvs == flipped)
        #expect(try glb.integers(accessor: try need(primitive["indices"] as? Int)) == builder.faces.map { Int($0) })
        #expect(accessors[try need(primitive["indices"] as? Int)]["componentType"] as? Int == 5123)
        #expect(primitive["mode"] as? Int == 4)

        // One morph target per shape: deltas in metres, names, zero default weights.
        let targets = try need(primitive["targets"] as? [[String: Int]])
        #expect(targets.count == rig.shapeCount)
        let extras = try need(mesh["extras"] as? [String: Any])
        #expect(extras["targetNames"] as? [String] == ExportFixtures.shapeNames)
        #expect(jsonFloats(mesh["weights"]) == [Float](repeating: 0, count: rig.shapeCount))
        for (shape, target) in targets.enumerated() {
            let accessor = try need(target["POSITION"])
            let deltas = try glb.floats(accessor: accessor)
            let expected = builder.deltas[(shape * 39)..<((shape + 1) * 39)].map { $0 * 0.01 }
            #expect(deltas == expected, "shape \(shape)")
            let low = try need(jsonFloats(accessors[accessor]["min"])), high = try need(jsonFloats(accessors[accessor]["max"]))
            for axis in 0..<3 {
                let values = stride(from: axis, to: deltas.count, by: 3).map { deltas[$0] }
                #expect(low[axis] == values.min() && high[axis] == values.max(), "shape \(shape) axis \(axis)")
            }
        }

        // The animation: a weights channel on node 0; sampler counts equal the frames.
        let animations = try glb.array("animations")
        try #require(animations.count == 1)
        let channel = try need((animations[0]["channels"] as? [[String: Any]])?.first)
        let target = try need(channel["target"] as? [String: Any])
        #expect(target["node"] as? Int == 0 && target["path"] as? String == "weights")
        let sampler = try need((animations[0]["samplers"] as? [[String: Any]])?[try need(channel["sampler"] as? Int)])
        #expect(sampler["interpolation"] as? String == "LINEAR")
        let input = try need(sampler["input"] as? Int), output = try need(sampler["output"] as? Int)
        #expect(accessors[input]["count"] as? Int == 25)
        #expect(accessors[output]["count"] as? Int == 25 * rig.shapeCount)
        let times = try glb.floats(accessor: input)
        #expect(times == (0..<25).map { Float(Double($0) / 50) })
        #expect(jsonFloats(accessors[input]["min"]) == [0] && jsonFloats(accessors[input]["max"]) == [times[24]])

        // Decoded weights at a frame equal the animation's matched channel values.
        let weights = try glb.floats(accessor: output)
        let matched: [String?] = ["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browInnerUp", "mouthSmileLeft", nil]
        for frame in [0, 13, 24] {
            for (shape, channel) in matched.enumerated() {
                let expected = channel.flatMap { ExportFixtures.value(animation, frame: frame, channel: $0) } ?? 0
                #expect(weights[frame * rig.shapeCount + shape] == expected, "frame \(frame) shape \(ExportFixtures.shapeNames[shape])")
            }
        }
    }

    @Test(arguments: [("m", Float(1)), ("mm", Float(0.001))])
    func unitsBecomeMetres(units: String, scale: Float) throws {
        let (builder, rig) = try ExportFixtures.rig(units: units)
        let glb = try export(ExportFixtures.animation(frames: 2), rig)
        let primitive = try need((try glb.array("meshes")[0]["primitives"] as? [[String: Any]])?.first)
        let attributes = try need(primitive["attributes"] as? [String: Int])
        #expect(try glb.floats(accessor: try need(attributes["POSITION"])) == builder.vertices.map { $0 * scale })
    }

    @Test func computedNormalsAndGivenNormals() throws {
        // A flat strip in the z = 0 plane facing +z: computed normals are +z or -z per winding.
        var builder = RigBuilder(shapeNames: ["jawOpen"], vertexCount: 4, seed: 3)
        builder.vertices = [0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0]
        builder.faces = [0, 1, 2, 2, 1, 3]
        builder.normals = nil
        let glb = try export(ExportFixtures.animation(frames: 1), try builder.load())
        try checkLayout(glb)
        let primitive = try need((try glb.array("meshes")[0]["primitives"] as? [[String: Any]])?.first)
        let attributes = try need(primitive["attributes"] as? [String: Int])
        #expect(try glb.floats(accessor: try need(attributes["NORMAL"])) == [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1])

        builder.normals = [1, 0, 0, 0, 2, 0, 0, 0, -1, 0, 0, 0]
        let given = try export(ExportFixtures.animation(frames: 1), try builder.load())
        let givenAttributes = try need(((try given.array("meshes")[0]["primitives"] as? [[String: Any]])?.first)?["attributes"] as? [String: Int])
        #expect(try given.floats(accessor: try need(givenAttributes["NORMAL"])) == [1, 0, 0, 0, 1, 0, 0, 0, -1, 0, 0, 1],
                "given normals are normalised, a zero one becomes +z")
    }

    @Test func largeMeshesUseIntIndicesAndTheLayoutHolds() throws {
        let (_, rig) = try ExportFixtures.rig(vertexCount: 70_000, uvs: false)
        let glb = try export(ExportFixtures.animation(frames: 3), rig)
        try checkLayout(glb)
        let primitive = try need((try glb.array("meshes")[0]["primitives"] as? [[String: Any]])?.first)
        #expect(try glb.array("accessors")[try need(primitive["indices"] as? Int)]["componentType"] as? Int == 5125)
        #expect((primitive["attributes"] as? [String: Int])?["TEXCOORD_0"] == nil)
    }

    @Test func oddIndexCountsKeepTheNextViewAligned() throws {
        // 1 triangle = 3 unsigned shorts = 6 bytes: the next view must start at 8.
        var builder = RigBuilder(shapeNames: ["jawOpen", "tongueOut"], vertexCount: 3, seed: 4)
        builder.faces = [0, 1, 2]
        let glb = try export(ExportFixtures.animation(frames: 3), try builder.load())
        try checkLayout(glb)
    }

    @Test func needsARigAndFrames() throws {
        let animation = ExportFixtures.animation(frames: 2)
        do {
            _ = try AnimationExporter.encode(animation, rig: nil, format: .glb)
            Issue.record("GLB without a rig")
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_INVALID_ARGUMENT && error.message == "GLB export needs a rig")
        }
        let (_, rig) = try ExportFixtures.rig()
        let empty = Animation(values: Tensor(shape: [0, 1], data: []), fps: 60, channelNames: ["jawOpen"])
        #expect(throws: KMTError.self) { try AnimationExporter.encode(empty, rig: rig, format: .glb) }
    }

    @Test func aRigThatDrivesNoShapeIsRefusedNotWrittenStill() throws {
        // No shapes at all, or none the animation's channels match: the file would never move.
        for names in [[], ["smileWide", "frownDeep"]] {
            let rig = try RigBuilder(shapeNames: names, vertexCount: 5, seed: 8).load()
            for format in [ExportFormat.glb, .glbSparse, .npy] {
                #expect {
                    try AnimationExporter.encode(ExportFixtures.animation(frames: 2), rig: rig, format: format)
                } throws: { ($0 as? KMTError)?.status == KMT_ERR_INVALID_ARGUMENT && ($0 as? KMTError)?.message.contains("nothing would move") == true }
            }
        }
    }

    @Test func theRigImporterReadsTheExportBack() throws {
        // Round trip through the engine's independent glTF reader (Import/GLTFImporter).
        let (builder, rig) = try ExportFixtures.rig(vertexCount: 9, normals: true)
        let bytes = try AnimationExporter.encode(ExportFixtures.animation(frames: 4), rig: rig, format: .glb)
        let imported = try GLTFImporter.importRig(bytes: bytes, source: "export.glb").rig
        #expect(imported.units == .meters)
        #expect(imported.shapeNames == ExportFixtures.shapeNames)
        #expect(imported.faces == builder.faces)
        #expect(maxAbsDifference(imported.vertices, builder.vertices.map { $0 * 0.01 }) == 0)
        #expect(maxAbsDifference(imported.deltas, builder.deltas.map { $0 * 0.01 }) == 0)
        #expect(maxAbsDifference(try need(imported.uvs), try need(builder.uvs)) < 1e-6, "v flipped twice")
        #expect(imported.normals == builder.normals)
    }

    /// glb-sparse: the same asset with each morph target holding only the vertices its shape
    /// moves; decoded, every target equals the dense one, with bounds that count the zeros.
    @Test(arguments: [13, 70_000])
    func sparseTargetsDecodeToTheDenseDeltas(vertexCount: Int) throws {
        var builder = RigBuilder(shapeNames: ExportFixtures.shapeNames, vertexCount: vertexCount, seed: 5)
        builder.normals = nil
        // Localized shapes: shape s moves every (s + 2)-th vertex; the last moves nothing.
        let shapes = ExportFixtures.shapeNames.count
        for shape in 0..<shapes {
            for vertex in 0..<vertexCount where shape == shapes - 1 || vertex % (shape + 2) != 0 {
                for axis in 0..<3 { builder.deltas[(shape * vertexCount + vertex) * 3 + axis] = 0 }
            }
        }
        let rig = try builder.load()
        let animation = ExportFixtures.animation(frames: 5)
        let dense = try export(animation, rig)
        let sparse = try export(animation, rig, format: .glbSparse)
        try checkLayout(sparse)
        print("glb-sparse: \(vertexCount) vertices, dense \(dense.binary.count) bytes, sparse \(sparse.binary.count)")
        #expect(sparse.binary.count < dense.binary.count)
        let denseTargets = try need((try dense.array("meshes")[0]["primitives"] as? [[String: Any]])?.first?["targets"] as? [[String: Int]])
        let sparseTargets = try need((try sparse.array("meshes")[0]["primitives"] as? [[String: Any]])?.first?["targets"] as? [[String: Int]])
        #expect(sparseTargets.count == shapes)
        let accessors = try sparse.array("accessors")
        for shape in 0..<shapes {
            let accessor = try need(sparseTargets[shape]["POSITION"])
            #expect(accessors[accessor]["bufferView"] == nil)
            let sparseObject = try need(accessors[accessor]["sparse"] as? [String: Any])
            let moved = shape == shapes - 1 ? 1 : (vertexCount + shape + 1) / (shape + 2)
            #expect(sparseObject["count"] as? Int == moved, "shape \(shape)")
            let indexType = (sparseObject["indices"] as? [String: Any])?["componentType"] as? Int
            #expect(indexType == (vertexCount <= 65_536 ? 5123 : 5125))
            let decoded = try sparse.floats(accessor: accessor)
            #expect(decoded == (try dense.floats(accessor: try need(denseTargets[shape]["POSITION"]))), "shape \(shape)")
            let low = try need(jsonFloats(accessors[accessor]["min"])), high = try need(jsonFloats(accessors[accessor]["max"]))
            for axis in 0..<3 {
                let values = stride(from: axis, to: decoded.count, by: 3).map { decoded[$0] }
                #expect(low[axis] == values.min() && high[axis] == values.max(), "shape \(shape) axis \(axis)")
            }
        }
        // Everything but the targets is the dense export's.
        #expect(try sparse.floats(accessor: 0) == (try dense.floats(accessor: 0)))
        #expect((try sparse.array("animations")).count == 1)
        // The engine's own glTF reader (sparse accessors supported) reads the same rig back.
        let imported = try GLTFImporter.importRig(
            bytes: try AnimationExporter.encode(animation, rig: rig, format: .glbSparse), source: "sparse.glb").rig
        #expect(maxAbsDifference(imported.deltas, builder.deltas.map { $0 * 0.01 }) == 0)
        #expect(ExportFormat(path: "face.glb") == .glb, "a .glb path stays dense")
    }
}
