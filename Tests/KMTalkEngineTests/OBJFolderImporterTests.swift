import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

@Suite struct OBJFolderImporterTests {
    /// OBJ text: `positions` as `v` lines, `uvs` (`vt` lines), then `faces`.
    static func obj(_ positions: [[Float]], faces: String, uvs: String = OBJFolderImporterTests.uvs) -> String {
        "# test mesh\nmtllib x.mtl\no grid\n" + positions.map { "v \($0[0]) \($0[1]) \($0[2])" }.joined(separator: "\n") + "\n" + uvs + "usemtl skin\ns 1\n" + faces
    }

    static let neutral: [[Float]] = [[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [1, 1, 0], [2, 1, 0]]
    /// A quad (0 1 4 3) and a pentagon-free triangle (1 2 5), plus a quad using negative indices.
    static let faces = "f 1/1 2/2 5/5 4/4\nf 2/2 3/3 6/6\nf -5/-5 -1/-1 -2/-2\n"
    static let uvs = "vt 0 0\nvt 0.5 0\nvt 1 0\nvt 0 1\nvt 0.5 1\nvt 1 1\n"

    static func folder(_ files: [String: String]) throws -> URL {
        let folder = try Fixtures.temporaryDirectory()
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return folder
    }

    static func moved(_ vertex: Int, by delta: [Float]) -> [[Float]] {
        var positions = neutral
        for k in 0..<3 { positions[vertex][k] += delta[k] }
        return positions
    }

    @Test func importsNeutralAndShapesWithFanTriangulationAndUVs() throws {
        let folder = try Self.folder([
            "head_neutral.obj": Self.obj(Self.neutral, faces: Self.faces, uvs: Self.uvs),
            "jawOpen.obj": Self.obj(Self.moved(4, by: [0, -0.5, 0.25]), faces: Self.faces, uvs: Self.uvs),
            "eyeBlink_L.obj": Self.obj(Self.moved(0, by: [0.1, 0, 0]), faces: Self.faces, uvs: Self.uvs),
            "notes.txt": "not an obj",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let imported = try OBJFolderImporter.importRig(directory: folder.path, units: .centimeters)
        let rig = imported.rig
        #expect(rig.shapeNames == ["eyeBlink_L", "jawOpen"])
        #expect(rig.vertexCount == 6)
        // Quad 0 1 4 3 fans into (0 1 4) (0 4 3); the triangle stays; the last quad is 2 6 5 (1-based) -> (1 5 4).
        #expect(rig.faces == [0, 1, 4, 0, 4, 3, 1, 2, 5, 1, 5, 4])
        #expect(rig.units == .centimeters)
        var jaw = [Float](repeating: 0, count: 18)
        jaw[12] = 0
        jaw[13] = -0.5
        jaw[14] = 0.25
        #expect(Array(rig.deltas[18..<36]) == jaw)
        #expect(rig.deltas[0] == Float(0.1) && rig.deltas[1..<18].allSatisfy { $0 == 0 })
        #expect(rig.uvs == [0, 0, 0.5, 0, 1, 0, 0, 1, 0.5, 1, 1, 1])
        #expect(imported.notes.isEmpty, "\(imported.notes)")
        _ = try Rig(bytes: RigWriter.encode(rig).bytes, source: "obj.rig")
    }

    @Test func aSymbolicLinkOutOfTheFolderIsRefusedUnlessAllowed() throws {
        let folder = try Self.folder(["head_neutral.obj": Self.obj(Self.neutral, faces: Self.faces)])
        let outside = try Self.folder(["jawOpen.obj": Self.obj(Self.moved(4, by: [0, -0.5, 0]), faces: Self.faces)])
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: outside)
        }
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("jawOpen.obj").path, withDestinationPath: outside.appendingPathComponent("jawOpen.obj").path)
        #expect {
            try OBJFolderImporter.importRig(directory: folder.path, units: .centimeters)
        } throws: { ($0 as? KMTError)?.status == KMT_ERR_INVALID_ARGUMENT && ($0 as? KMTError)?.message.contains("outside the asset's folder") == true }
        let trusted = try OBJFolderImporter.importRig(directory: folder.path, units: .centimeters, allowOutsideFiles: true)
        #expect(trusted.rig.shapeNames == ["jawOpen"])
    }

    @Test func skipsShapesWithAnotherTopologyAndDropsSeamUVs() throws {
        // Vertex 1's corners use two different texture coordinates (a seam).
        let seamFaces = "f 1/1 2/2 5/5 4/4\nf 2/7 3/3 6/6\n"
        let uvs = Self.uvs + "vt 0.9 0.9\n"
        let folder = try Self.folder([
            "neutral.obj": Self.obj(Self.neutral, faces: seamFaces, uvs: uvs),
            "a.obj": Self.obj(Self.moved(2, by: [0, 0, 1]), faces: seamFaces, uvs: uvs),
            "fewer.obj": Self.obj(Array(Self.neutral.prefix(5)), faces: "f 1 2 3\n"),
            "rewired.obj": Self.obj(Self.neutral, faces: "f 1 2 3\nf 4 5 6\n"),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let imported = try OBJFolderImporter.importRig(directory: folder.path)
        #expect(imported.rig.shapeNames == ["a"])
        #expect(imported.rig.uvs == nil)
        #expect(imported.rig.units == .meters, "a 2-unit mesh is guessed to be in metres")
        let notes = imported.notes.joined(separator: "\n")
        #expect(notes.contains("fewer.obj (5 vertices, the neutral has 6)"), "\(notes)")
        #expect(notes.contains("rewired.obj (same vertex count, different faces)"), "\(notes)")
        #expect(notes.contains("1 vertices have several UVs"), "\(notes)")
        #expect(notes.contains("units guessed as m"), "\(notes)")
    }

    @Test func followsAnICTManifestUnlessToldNotTo() throws {
        let folder = try Self.folder([
            "generic_neutral_mesh.obj": Self.obj(Self.neutral, faces: Self.faces),
            "jawOpen.obj": Self.obj(Self.moved(4, by: [0, -1, 0]), faces: Self.faces),
            "browDown_L.obj": Self.obj(Self.moved(3, by: [0, -0.1, 0]), faces: Self.faces),
            "extra.obj": Self.obj(Self.moved(0, by: [0, 0, 0.1]), faces: Self.faces),
            "vertex_indices.json": #"{"expressions": ["jawOpen", "browDown_L", "missing"]}"#,
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let listed = try OBJFolderImporter.importRig(directory: folder.path, units: .centimeters)
        #expect(listed.rig.shapeNames == ["jawOpen", "browDown_L"])
        #expect(listed.notes.contains { $0.contains("extra") } && listed.notes.contains { $0.contains("missing") }, "\(listed.notes)")
        let all = try OBJFolderImporter.importRig(directory: folder.path, units: .centimeters, useManifest: false)
        #expect(all.rig.shapeNames == ["browDown_L", "extra", "jawOpen"])
    }

    @Test func reportsMalformedOBJsWithTheLine() throws {
        let cases: [(String, String)] = [
            ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", ":4: vertex index 4 is out of range (3 defined so far)"),
            ("v 0 0 0\nv 1 0 zero\n", ":2: malformed number"),
            ("v 0 0 0\nv 1 0\nv 0 1 0\nf 1 2 3\n", ":2: too few numbers"),
            ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2\n", ":4: a face needs at least 3 corners"),
            ("v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2/1 3\n", "some corners of the face have texture coordinates"),
            ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "vertex index 0 is out of range"),
        ]
        for (text, fragment) in cases {
            let folder = try Self.folder(["neutral.obj": text, "shape.obj": text])
            defer { try? FileManager.default.removeItem(at: folder) }
            do {
                _ = try OBJFolderImporter.importRig(directory: folder.path)
                Issue.record("imported a malformed OBJ (\(fragment))")
            } catch let error as KMTError {
                #expect(error.status == KMT_ERR_CORRUPT_RIG)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    @Test func needsANeutralAndShapes() throws {
        let folder = try Self.folder(["a.obj": Self.obj(Self.neutral, faces: Self.faces), "b.obj": Self.obj(Self.neutral, faces: Self.faces)])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: KMTError.self) { try OBJFolderImporter.importRig(directory: folder.path) }
        #expect(try OBJFolderImporter.importRig(directory: folder.path, neutral: "a.obj").rig.shapeNames == ["b"])
        #expect(throws: KMTError.self) { try OBJFolderImporter.importRig(directory: folder.path, neutral: "c.obj") }
        #expect(throws: KMTError.self) { try OBJFolderImporter.importRig(directory: folder.path + "/missing") }
    }

    // MARK: - ICT-FaceKit

    static let ictFolder = Fixtures.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/ict-facekit").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ictFolder + "/generic_neutral_mesh.obj"), "ICT-FaceKit not available"))
    func importsICTFaceKit() throws {
        let imported = try OBJFolderImporter.importRig(directory: Self.ictFolder, units: .centimeters)
        let rig = imported.rig
        #expect(rig.vertexCount == 26_719)
        #expect(rig.shapeCount == 53)
        // 548 triangles and 25,836 quads in the neutral: 548 + 2 x 25,836 triangles.
        #expect(rig.faceCount == 548 + 2 * 25_836)
        #expect(rig.uvs == nil, "ICT's UVs have seams")

        // Lip vertices: those mouthFunnel moves most. jawOpen must move them too (the lower lip down).
        let vertexCount = rig.vertexCount
        let funnel = try #require(rig.shapeNames.firstIndex(of: "mouthFunnel"))
        let jaw = try #require(rig.shapeNames.firstIndex(of: "jawOpen"))
        func magnitude(_ shape: Int, _ vertex: Int) -> Float {
            let base = (shape * vertexCount + vertex) * 3
            return (rig.deltas[base] * rig.deltas[base] + rig.deltas[base + 1] * rig.deltas[base + 1] + rig.deltas[base + 2] * rig.deltas[base + 2]).squareRoot()
        }
        let funnelMax = (0..<vertexCount).map { magnitude(funnel, $0) }.max()!
        let lips = (0..<vertexCount).filter { magnitude(funnel, $0) > 0.5 * funnelMax }
        #expect(lips.count > 20)
        let moving = lips.filter { magnitude(jaw, $0) > 0.05 }
        #expect(moving.count * 2 > lips.count, "jawOpen moves \(moving.count) of \(lips.count) lip vertices")
        let lowestLip = lips.min { rig.vertices[3 * $0 + 1] < rig.vertices[3 * $1 + 1] }!
        #expect(rig.deltas[(jaw * vertexCount + lowestLip) * 3 + 1] < -0.5, "the lower lip drops with jawOpen (cm)")

        let encoded = try RigWriter.encode(rig, deltas: .float16)
        #expect(encoded.bytes.count < 20 << 20)
        #expect(encoded.deltaRoundingError < 0.01)
    }
}
