import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

@Suite struct GLTFImporterTests {
    /// A unit quad in the x-y plane (counter-clockwise seen from +z) with normals, UVs and two
    /// morph targets: a dense `jawOpen` and a sparse `mouthSmile_L` (no bufferView, one
    /// substituted element), shown by node 1, a child of node 0.
    static func quadAsset(
        parent: String = #"{"translation":[1,2,3],"children":[1]}"#,
        child: String = #"{"rotation":[0,0.70710678,0,0.70710678],"scale":[2,2,2],"mesh":0}"#,
        targetNames: String? = #"["jawOpen","mouthSmile_L"]"#,
        withTargets: Bool = true
    ) -> (builder: GLTFTestBuilder, json: String) {
        var b = GLTFTestBuilder()
        let position = b.floats([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0], type: "VEC3")
        let normal = b.floats([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1], type: "VEC3")
        let uv = b.floats([0, 1, 1, 1, 1, 0, 0, 0], type: "VEC2")
        let indices = b.indices([0, 1, 2, 0, 2, 3])
        let jaw = b.floats([0, -0.1, 0, 0, -0.1, 0.05, 0, 0, 0, 0, 0, 0], type: "VEC3")
        let sparseIndices = b.view([2])
        let sparseValues = b.view([Float(0.02), 0.03, 0].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        let smile = b.accessor("""
            {"componentType":5126,"count":4,"type":"VEC3","sparse":{"count":1,\
            "indices":{"bufferView":\(sparseIndices),"componentType":5121},"values":{"bufferView":\(sparseValues)}}}
            """)
        let targets = withTargets ? #","targets":[{"POSITION":\#(jaw)},{"POSITION":\#(smile)}]"# : ""
        let extras = targetNames.map { #","extras":{"targetNames":\#($0)}"# } ?? ""
        let meshes = """
            [{"name":"face","primitives":[{"attributes":{"POSITION":\(position),"NORMAL":\(normal),"TEXCOORD_0":\(uv)},\
            "indices":\(indices)\(targets)}]\(extras)}]
            """
        return (b, b.json(meshes: meshes, nodes: "[\(parent),\(child)]"))
    }

    /// p -> (1, 2, 3) + R_y(90 degrees) (2 p), with R_y(90)(x, y, z) = (z, y, -x).
    static func placed(_ p: [Float]) -> [Float] { [1 + 2 * p[2], 2 + 2 * p[1], 3 - 2 * p[0]] }
    /// d -> R_y(90) (2 d).
    static func turned(_ d: [Float]) -> [Float] { [2 * d[2], 2 * d[1], -2 * d[0]] }

    static func expectClose(_ actual: [Float], _ expected: [Float], _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, "\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        #expect(maxAbsDifference(actual, expected) < 1e-5, "\(label): \(actual) vs \(expected)", sourceLocation: sourceLocation)
    }

    @Test func importsPositionsDeltasNamesNormalsAndUVsWithTheNodeTransform() throws {
        let (builder, json) = Self.quadAsset()
        let imported = try GLTFImporter.importRig(bytes: builder.glb(json: json), source: "quad.glb")
        let rig = imported.rig
        #expect(rig.shapeNames == ["jawOpen", "mouthSmile_L"])
        #expect(rig.units == .meters)
        #expect(rig.faces == [0, 1, 2, 0, 2, 3])
        let neutral: [[Float]] = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]
        Self.expectClose(rig.vertices, neutral.flatMap(Self.placed), "positions")
        let jaw: [[Float]] = [[0, -0.1, 0], [0, -0.1, 0.05], [0, 0, 0], [0, 0, 0]]
        let smile: [[Float]] = [[0, 0, 0], [0, 0, 0], [0.02, 0.03, 0], [0, 0, 0]]
        Self.expectClose(rig.deltas, (jaw + smile).flatMap(Self.turned), "deltas (no translation)")
        Self.expectClose(try #require(rig.normals), [Float](repeating: 0, count: 12).enumerated().map { $0.offset % 3 == 0 ? 1 : 0 }, "normals turned to +x")
        Self.expectClose(try #require(rig.uvs), [0, 0, 1, 0, 1, 1, 0, 1], "uvs with v flipped up")
        #expect(imported.notes.isEmpty, "\(imported.notes)")

        // Written and read back by the engine's loader.
        let loaded = try Rig(bytes: RigWriter.encode(rig).bytes, source: "quad.rig")
        #expect(loaded.shapeNames == ["jawOpen", "mouthSmile_L"])
        Self.expectClose(loaded.vertices, rig.vertices, "reloaded positions")
    }

    @Test func gltfWithDataURIAndWithAFileBesideItMatchTheGLB() throws {
        let (builder, json) = Self.quadAsset()
        let expected = try GLTFImporter.importRig(bytes: builder.glb(json: json), source: "quad.glb").rig

        let embedded = builder.json(meshes: Self.meshesOf(json), nodes: Self.nodesOf(json), uri: builder.dataURI)
        let fromURI = try GLTFImporter.importRig(bytes: Array(embedded.utf8), source: "quad.gltf").rig
        #expect(fromURI.vertices == expected.vertices && fromURI.deltas == expected.deltas)

        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(builder.binary).write(to: folder.appendingPathComponent("quad data.bin"))
        let external = builder.json(meshes: Self.meshesOf(json), nodes: Self.nodesOf(json), uri: "quad%20data.bin")
        let path = folder.appendingPathComponent("quad.gltf").path
        try external.write(toFile: path, atomically: true, encoding: .utf8)
        let fromFile = try GLTFImporter.importRig(path: path).rig
        #expect(fromFile.vertices == expected.vertices && fromFile.deltas == expected.deltas)
    }

    @Test func externalBuffersStayInsideTheAssetsFolder() throws {
        let (builder, json) = Self.quadAsset()
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let assetFolder = root.appendingPathComponent("asset")
        try FileManager.default.createDirectory(at: assetFolder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let outside = root.appendingPathComponent("secret.bin").path
        try Data(builder.binary).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createSymbolicLink(atPath: assetFolder.appendingPathComponent("link.bin").path, withDestinationPath: outside)
        func write(_ uri: String) throws -> String {
            let path = assetFolder.appendingPathComponent("quad.gltf").path
            try builder.json(meshes: Self.meshesOf(json), nodes: Self.nodesOf(json), uri: uri).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        for uri in [outside, "../secret.bin", "sub/../../secret.bin", "link.bin", "%2E%2E/secret.bin"] {
            let path = try write(uri)
            do {
                _ = try GLTFImporter.importRig(path: path)
                Issue.record("\(uri) was read")
            } catch let error as KMTError {
                #expect(error.status == KMT_ERR_INVALID_ARGUMENT, "\(uri): \(error.message)")
                #expect(error.message.contains("outside the asset's folder"), "\(uri): \(error.message)")
            }
            // The caller may trust the asset.
            #expect(try GLTFImporter.importRig(path: path, allowOutsideFiles: true).rig.vertexCount == 4, "\(uri)")
        }
        // Inside the folder: read.
        try Data(builder.binary).write(to: assetFolder.appendingPathComponent("data.bin"))
        #expect(try GLTFImporter.importRig(path: write("./data.bin")).rig.vertexCount == 4)
    }

    /// The `"meshes":[...]` member of a JSON built by `quadAsset`.
    static func meshesOf(_ json: String) -> String {
        let start = json.range(of: "\"meshes\":")!.upperBound
        let end = json.range(of: ",\"buffers\"")!.lowerBound
        return String(json[start..<end])
    }

    static func nodesOf(_ json: String) -> String {
        let start = json.range(of: "\"nodes\":[{")!.upperBound
        let end = json.range(of: ",\"meshes\"")!.lowerBound
        return "[{" + String(json[start..<end])
    }

    @Test func aMirroringTransformKeepsTrianglesCounterClockwise() throws {
        let (builder, json) = Self.quadAsset(parent: #"{"children":[1]}"#, child: #"{"scale":[-1,1,1],"mesh":0}"#)
        let rig = try GLTFImporter.importRig(bytes: builder.glb(json: json), source: "mirror.glb").rig
        #expect(rig.faces == [0, 2, 1, 0, 3, 2])
        Self.expectClose(rig.vertices, [0, 0, 0, -1, 0, 0, -1, 1, 0, 0, 1, 0], "mirrored positions")
        Self.expectClose(try #require(rig.normals), [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1], "normals still +z")
    }

    @Test func mergesPrimitivesAndFallsBackForNames() throws {
        var b = GLTFTestBuilder()
        let quad = b.floats([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0], type: "VEC3")
        let quadIndices = b.indices([0, 1, 2, 0, 2, 3], componentType: 5121)
        let quadTarget = b.floats([Float](repeating: 0.5, count: 12), type: "VEC3")
        let triangle = b.floats([2, 0, 0, 3, 0, 0, 2, 1, 0], type: "VEC3")
        let triangleTarget = b.floats([0, 0, 1, 0, 0, 1, 0, 0, 1], type: "VEC3")
        // A strip of 4 corners: triangles (0, 1, 2) and (2, 1, 3) over 4 more vertices, uint32 indices.
        let strip = b.floats([0, 2, 0, 1, 2, 0, 0, 3, 0, 1, 3, 0], type: "VEC3")
        let stripIndices = b.indices([0, 1, 2, 3], componentType: 5125)
        let meshes = """
            [{"primitives":[\
            {"attributes":{"POSITION":\(quad)},"indices":\(quadIndices),"targets":[{"POSITION":\(quadTarget)}],"extras":{"targetNames":["smile"]}},\
            {"attributes":{"POSITION":\(triangle)},"targets":[{"POSITION":\(triangleTarget)}]},\
            {"attributes":{"POSITION":\(strip)},"indices":\(stripIndices),"mode":5,"targets":[{}]},\
            {"attributes":{"POSITION":\(quad)},"indices":\(quadIndices),"mode":1,"targets":[{"POSITION":\(quadTarget)}]}]}]
            """
        let imported = try GLTFImporter.importRig(bytes: b.glb(json: b.json(meshes: meshes, nodes: #"[{"mesh":0}]"#)), source: "merged.glb")
        let rig = imported.rig
        #expect(rig.vertexCount == 11)
        #expect(rig.faces == [0, 1, 2, 0, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 10])
        #expect(rig.shapeNames == ["smile"])
        #expect(Array(rig.deltas[0..<12]) == [Float](repeating: 0.5, count: 12))
        #expect(Array(rig.deltas[12..<21]) == [0, 0, 1, 0, 0, 1, 0, 0, 1])
        #expect(Array(rig.deltas[21..<33]) == [Float](repeating: 0, count: 12), "a target without POSITION moves nothing")
        #expect(rig.normals == nil && rig.uvs == nil)
        #expect(imported.notes.contains { $0.contains("mode 1") }, "\(imported.notes)")
    }

    @Test func namesTargetsWhenNoNamesAreGivenAndRenamesRepeats() throws {
        let (builder, json) = Self.quadAsset(targetNames: nil)
        #expect(try GLTFImporter.importRig(bytes: builder.glb(json: json), source: "a.glb").rig.shapeNames == ["target_0", "target_1"])
        let (again, repeated) = Self.quadAsset(targetNames: #"["jawOpen","jawOpen"]"#)
        let imported = try GLTFImporter.importRig(bytes: again.glb(json: repeated), source: "b.glb")
        #expect(imported.rig.shapeNames == ["jawOpen", "jawOpen_2"])
        #expect(imported.notes.contains { $0.contains("repeats") })
    }

    @Test func picksTheMeshByName() throws {
        let (builder, json) = Self.quadAsset()
        #expect(try GLTFImporter.importRig(bytes: builder.glb(json: json), source: "a.glb", mesh: "face").rig.vertexCount == 4)
        #expect(throws: KMTError.self) { try GLTFImporter.importRig(bytes: builder.glb(json: json), source: "a.glb", mesh: "body") }
    }

    @Test func theEnginesGLBExportImportsBackToTheSameRig() throws {
        var builder = RigBuilder(shapeNames: ["jawOpen", "mouthSmileLeft", "custom"], vertexCount: 8, seed: 11)
        builder.setMetadata("units", "m")
        let rig = try builder.load()
        let animation = Animation(
            values: Tensor(shape: [3, 2], data: [0, 0, 0.5, 0.25, 1, 0]), fps: 30, channelNames: ["jawOpen", "mouthSmileLeft"])
        let glb = try AnimationExporter.encode(animation, rig: rig, format: .glb)
        let imported = try GLTFImporter.importRig(bytes: glb, source: "export.glb").rig
        #expect(imported.shapeNames == rig.shapeNames)
        #expect(imported.vertices == rig.vertices)
        #expect(imported.faces == rig.faces)
        #expect(imported.deltas == rig.deltas.data)
        Self.expectClose(try #require(imported.uvs), try #require(rig.uvs), "uvs flipped twice")
    }

    // MARK: - Malformed files

    static func expectError(_ bytes: [UInt8], _ status: kmt_status, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try GLTFImporter.importRig(bytes: bytes, source: "bad.glb")
            Issue.record("imported a malformed file (expected: \(fragment))", sourceLocation: sourceLocation)
        } catch let error as KMTError {
            #expect(error.status == status, "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func refusesMalformedGLBs() {
        let (builder, json) = Self.quadAsset()
        let good = builder.glb(json: json)
        Self.expectError(Array(good.prefix(good.count - 10)), KMT_ERR_CORRUPT_RIG, "truncated")
        Self.expectError(Array(good.prefix(7)), KMT_ERR_CORRUPT_RIG, "shorter than the 12-byte header")

        var badChunk = good
        badChunk[16] = 0x42  // the JSON chunk's type
        Self.expectError(badChunk, KMT_ERR_CORRUPT_RIG, "first chunk has type")

        var oversized = good
        oversized[12] = 0xFF  // JSON chunk length beyond the file
        oversized[13] = 0xFF
        Self.expectError(oversized, KMT_ERR_CORRUPT_RIG, "runs past the end")

        var version = good
        version[4] = 1
        Self.expectError(version, KMT_ERR_UNSUPPORTED_FORMAT, "GLB version 1")

        Self.expectError(Array("hello, not a model".utf8), KMT_ERR_UNSUPPORTED_FORMAT, "neither a GLB")
        Self.expectError(Array("{\"asset\":".utf8), KMT_ERR_CORRUPT_RIG, "malformed glTF JSON")
    }

    @Test func refusesAccessorsOutsideTheirBuffer() {
        var (builder, json) = Self.quadAsset()
        // Claim 5 positions in a 4-position view.
        json = json.replacingOccurrences(of: #""componentType":5126,"count":4,"type":"VEC3"}"#, with: #""componentType":5126,"count":5,"type":"VEC3"}"#)
        Self.expectError(builder.glb(json: json), KMT_ERR_CORRUPT_RIG, "accessor out of buffer range")

        var shifted = Self.quadAsset().json
        shifted = shifted.replacingOccurrences(of: #"{"buffer":0,"byteOffset":0,"#, with: #"{"buffer":0,"byteOffset":4000,"#)
        Self.expectError(builder.glb(json: shifted), KMT_ERR_CORRUPT_RIG, "lies outside buffer 0")

        builder.binary.removeLast(8)
        Self.expectError(builder.glb(json: Self.quadAsset().json), KMT_ERR_CORRUPT_RIG, "truncated")
    }

    @Test func refusesMeshesWithoutMorphTargets() {
        let (builder, json) = Self.quadAsset(targetNames: nil, withTargets: false)
        Self.expectError(builder.glb(json: json), KMT_ERR_CORRUPT_RIG, "no mesh has morph targets")
    }

    @Test func refusesRequiredCompressionExtensions() {
        let (builder, plain) = Self.quadAsset()
        let json = builder.json(meshes: Self.meshesOf(plain), nodes: Self.nodesOf(plain),
                                extra: #","extensionsRequired":["KHR_draco_mesh_compression"]"#)
        Self.expectError(builder.glb(json: json), KMT_ERR_UNSUPPORTED_FORMAT, "KHR_draco_mesh_compression")
    }

    @Test func randomCorruptionNeverCrashes() {
        let (builder, json) = Self.quadAsset()
        let good = builder.glb(json: json)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<300 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                _ = try GLTFImporter.importRig(bytes: bytes, source: "fuzz.glb")
            } catch is KMTError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
