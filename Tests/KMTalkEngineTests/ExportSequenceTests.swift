import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// OBJ and PLY sequences: one file per frame, named from the given path, whose vertices
/// read back equal `VertexSolver`'s output, and atomic writing.
@Suite struct ExportSequenceTests {
    /// Parses an OBJ: `v` positions, `vt` coordinates and `f` corners (1-based, vertex
    /// index of each corner).
    func parseOBJ(_ path: String) throws -> (vertices: [Float], uvs: [Float], faces: [Int]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var vertices: [Float] = [], uvs: [Float] = [], faces: [Int] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            switch fields.first {
            case "v": vertices += try fields.dropFirst().map { try need(Float(String($0))) }
            case "vt": uvs += try fields.dropFirst().map { try need(Float(String($0))) }
            case "f":
                faces += try fields.dropFirst().map { corner in
                    let parts = corner.split(separator: "/")
                    if parts.count == 2 { #expect(parts[0] == parts[1]) }
                    return try need(Int(String(parts[0])))
                }
            default: break
            }
        }
        return (vertices, uvs, faces)
    }

    /// Parses a binary little-endian PLY as written by the exporter.
    func parsePLY(_ path: String) throws -> (header: [String], vertices: [Float], uvs: [Float], faces: [Int]) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let marker = Array("end_header\n".utf8)
        var end = 0
        while end + marker.count <= bytes.count, Array(bytes[end..<(end + marker.count)]) != marker { end += 1 }
        try #require(end + marker.count <= bytes.count, "no end_header")
        let header = String(decoding: bytes[0..<end], as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(header[0] == "ply" && header[1] == "format binary_little_endian 1.0")
        func count(_ element: String) throws -> Int {
            let line = try need(header.first { $0.hasPrefix("element \(element) ") })
            return try need(Int(line.split(separator: " ")[2]))
        }
        let vertexCount = try count("vertex")
        let faceCount = header.contains { $0.hasPrefix("element face ") } ? try count("face") : 0
        let withUVs = header.contains("property float s")
        let reader = ByteReader(bytes: bytes)
        var offset = end + marker.count
        var vertices: [Float] = [], uvs: [Float] = []
        for _ in 0..<vertexCount {
            vertices += try reader.floats(offset, count: 3)
            offset += 12
            if withUVs {
                uvs += try reader.floats(offset, count: 2)
                offset += 8
            }
        }
        var faces: [Int] = []
        for _ in 0..<faceCount {
            try #require(offset < bytes.count)
            #expect(bytes[offset] == 3)
            for corner in 0..<3 { faces.append(Int(Int32(bitPattern: try reader.uint32(offset + 1 + corner * 4)))) }
            offset += 13
        }
        #expect(offset == bytes.count, "trailing bytes after the faces")
        return (header, vertices, uvs, faces)
    }

    /// Files in `directory`, sorted.
    func listing(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test(arguments: [ExportFormat.obj, .ply])
    func sequenceVerticesEqualTheSolver(format: ExportFormat) throws {
        let (builder, rig) = try ExportFixtures.rig()
        let frames = 40  // more than one posing batch
        let animation = ExportFixtures.animation(frames: frames)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pattern = directory.appendingPathComponent("face.\(format.rawValue)").path
        let written = try AnimationExporter.save(animation, rig: rig, path: pattern, format: nil)
        let names = (1...frames).map { String(format: "face_%06d.\(format.rawValue)", $0) }
        #expect(try listing(directory) == names, "no temporary files left, nothing else written")
        #expect(written == names.map { directory.appendingPathComponent($0).path })
        let expected = try VertexSolver(rig: rig, channelNames: animation.channelNames)
            .vertices(of: animation, frames: 0..<frames, mode: .absolute)
        let width = rig.vertexCount * 3
        for frame in [0, 1, 31, 32, 39] {
            let path = directory.appendingPathComponent(names[frame]).path
            let slice = Array(expected[(frame * width)..<((frame + 1) * width)])
            if format == .obj {
                let parsed = try parseOBJ(path)
                #expect(parsed.vertices == slice, "frame \(frame)")
                #expect(parsed.faces == builder.faces.map { Int($0) + 1 })
                #expect(parsed.uvs == builder.uvs)
                let comment = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
                #expect(comment.contains("frame \(frame + 1) of \(frames)") && comment.contains("units cm"), "\(comment)")
            } else {
                let parsed = try parsePLY(path)
                #expect(parsed.vertices == slice, "frame \(frame)")
                #expect(parsed.faces == builder.faces.map { Int($0) })
                #expect(parsed.uvs == builder.uvs)
                #expect(parsed.header.contains("comment units cm"))
            }
        }
    }

    @Test func sequenceWithoutTextureCoordinates() throws {
        let (builder, rig) = try ExportFixtures.rig(uvs: false)
        let animation = ExportFixtures.animation(frames: 2)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try AnimationExporter.save(animation, rig: rig, path: directory.appendingPathComponent("a.obj").path, format: nil)
        try AnimationExporter.save(animation, rig: rig, path: directory.appendingPathComponent("b").path, format: .ply)
        #expect(try listing(directory) == ["a_000001.obj", "a_000002.obj", "b_000001", "b_000002"])
        let obj = try parseOBJ(directory.appendingPathComponent("a_000002.obj").path)
        #expect(obj.uvs.isEmpty && obj.faces == builder.faces.map { Int($0) + 1 })
        let ply = try parsePLY(directory.appendingPathComponent("b_000001").path)
        #expect(ply.uvs.isEmpty && !ply.header.contains("property float s"))
    }

    @Test func sequenceNames() {
        let paths = SequencePaths(pattern: "out.v1/face.obj", count: 3)
        #expect(paths.path(frame: 0) == "out.v1/face_000001.obj")
        #expect(SequencePaths(pattern: "out.v1/face", count: 3).path(frame: 2) == "out.v1/face_000003")
        #expect(SequencePaths(pattern: "f.ply", count: 1_234_567).path(frame: 9) == "f_0000010.ply")
    }

    @Test func aFailedSequenceLeavesNoFiles() throws {
        let (_, rig) = try ExportFixtures.rig()
        let animation = ExportFixtures.animation(frames: 5)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A directory where frame 4 goes: frames 1-3 are staged, then the export fails.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("face_000004.obj"), withIntermediateDirectories: false)
        do {
            try AnimationExporter.save(animation, rig: rig, path: directory.appendingPathComponent("face.obj").path, format: nil)
            Issue.record("saved over a directory")
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_IO)
            #expect(error.message.contains("face_000004.obj") && error.message.contains("is a directory"), "\(error.message)")
        }
        #expect(try listing(directory) == ["face_000004.obj"], "no frame files and no temporary files")
    }

    @Test func aShorterSequenceReplacesALongerOneWhole() throws {
        let (_, rig) = try ExportFixtures.rig()
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pattern = directory.appendingPathComponent("face.obj").path
        try "keep".write(to: directory.appendingPathComponent("face_notes.obj"), atomically: true, encoding: .utf8)
        try AnimationExporter.save(ExportFixtures.animation(frames: 5), rig: rig, path: pattern, format: nil)
        let written = try AnimationExporter.save(ExportFixtures.animation(frames: 3), rig: rig, path: pattern, format: nil)
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["face_000001.obj", "face_000002.obj", "face_000003.obj"])
        // No stale frames 4 and 5, no staging folder; a file that is not a frame is kept.
        #expect(try listing(directory) == ["face_000001.obj", "face_000002.obj", "face_000003.obj", "face_notes.obj"])
        #expect(try String(contentsOfFile: written[2], encoding: .utf8).hasPrefix("# KMTalk \(KMT_VERSION_STRING): frame 3 of 3"))
    }

    /// The id of a process that has exited.
    func deadProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func whatAKilledWriterLeftIsFinishedOrDiscardedByTheNextExport() throws {
        let (_, rig) = try ExportFixtures.rig()
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manager = FileManager.default
        let dead = try deadProcessID()
        func write(_ text: String, _ name: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        // An old sequence of 4 frames; a killed writer had committed a 2-frame sequence and
        // moved its frame 1 into place (frame 2 still in the committed folder).
        for frame in 1...4 { try write("old \(frame) of 4", String(format: "face_%06d.obj", frame)) }
        let committed = ".face_.kmtalk-\(dead)-1f.commit"
        try manager.createDirectory(at: directory.appendingPathComponent(committed), withIntermediateDirectories: false)
        try write("new 1 of 2", "face_000001.obj")
        try write("new 2 of 2", committed + "/face_000002.obj")
        try write("face_\nobj\n6\n2\n".replacingOccurrences(of: "obj", with: ".obj"), committed + "/kmtalk-sequence")
        // Another killed writer's incomplete staging, its temporary file, and a live
        // writer's temporary file (this process: kept).
        let staging = ".mesh_.kmtalk-\(dead)-2e.seq"
        try manager.createDirectory(at: directory.appendingPathComponent(staging), withIntermediateDirectories: false)
        try write("partial", staging + "/mesh_000001.obj")
        try write("partial", ".take.json.kmtalk-\(dead)-3d.tmp")
        let live = ".other.json.kmtalk-\(getpid())-4c.tmp"
        try write("in progress", live)

        try AnimationExporter.save(ExportFixtures.animation(frames: 2), rig: rig, path: directory.appendingPathComponent("take.json").path, format: nil)
        #expect(try listing(directory) == [live, "face_000001.obj", "face_000002.obj", "take.json"])
        #expect(try String(contentsOfFile: directory.appendingPathComponent("face_000002.obj").path, encoding: .utf8) == "new 2 of 2")
        #expect(DurableFile.owner(of: committed)! == (dead, "commit"))
        #expect(DurableFile.owner(of: "face_000001.obj") == nil && DurableFile.owner(of: ".a.kmtalk-x-1.tmp") == nil)
    }

    @Test func anExistingFileIsReplacedWholeOrKept() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("take.csv").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        // A failure (Live Link at a fractional rate) keeps the old file.
        #expect(throws: KMTError.self) {
            try AnimationExporter.save(ExportFixtures.animation(fps: 29.97), rig: nil, path: path, format: .liveLinkCSV)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        let animation = ExportFixtures.animation(frames: 3)
        try AnimationExporter.save(animation, rig: nil, path: path, format: nil)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try bytes == CSVExporter.encode(animation))
        #expect(try listing(directory) == ["take.csv"])
    }
}
