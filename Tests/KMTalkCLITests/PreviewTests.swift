import Foundation
@testable import KMTalkEngine
import Testing

@testable import kmtalk

@Suite struct PreviewTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tinyModel = repositoryRoot.appendingPathComponent("models/kmtalk-tiny-random.safetensors").path
    static let headRig = repositoryRoot.appendingPathComponent("models/\(Animate.defaultRigName)").path

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kmtalk-cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A 16-bit mono 16 kHz WAV of `seconds` of a vowel-like buzz.
    static func writeSpeechLikeWAV(_ path: String, seconds: Double) throws {
        let rate = 16_000
        let count = Int(seconds * Double(rate))
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8))
        append(UInt32(36 + 2 * count))
        data.append(contentsOf: Array("WAVEfmt ".utf8))
        append(UInt32(16)); append(UInt16(1)); append(UInt16(1)); append(UInt32(rate)); append(UInt32(2 * rate)); append(UInt16(2)); append(UInt16(16))
        data.append(contentsOf: Array("data".utf8))
        append(UInt32(2 * count))
        for n in 0..<count {
            let t = Double(n) / Double(rate)
            var value = 0.0
            for harmonic in 1...6 { value += sin(2 * Double.pi * 130 * Double(harmonic) * t) / Double(harmonic) }
            let envelope = max(0, sin(2 * Double.pi * 3 * t))
            append(Int16(max(-32767, min(32767, 9000 * envelope * value))))
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// A small rig: an 11 x 11 grid (10 units wide) facing +z whose centre vertex `jawOpen`
    /// pushes 2 units back into a cone-shaped pit, plus a shape no channel drives.
    static func gridContent() -> RigContent {
        let side = 11
        var vertices: [Float] = []
        for y in 0..<side {
            for x in 0..<side { vertices += [Float(x), Float(y), 0] }
        }
        var faces: [Int32] = []
        for y in 0..<(side - 1) {
            for x in 0..<(side - 1) {
                let a = Int32(y * side + x), b = a + 1, c = a + Int32(side), d = c + 1
                faces += [a, b, d, a, d, c]
            }
        }
        var deltas = [Float](repeating: 0, count: 2 * side * side * 3)
        deltas[3 * centre + 2] = -2
        return RigContent(vertices: vertices, faces: faces, shapeNames: ["jawOpen", "custom"], deltas: deltas, units: .centimeters)
    }

    /// The grid's centre vertex, (5, 5).
    static let centre = 60

    static func gridRig() throws -> Rig {
        try Rig(bytes: RigWriter.encode(gridContent()).bytes, source: "grid")
    }

    @Test func previewWritesOnePNGPerFrame() throws {
        let folder = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let audio = folder.appendingPathComponent("clip.wav").path
        try Self.writeSpeechLikeWAV(audio, seconds: 0.6)
        let rigPath = folder.appendingPathComponent("grid.rig.safetensors").path
        try Data(RigWriter.encode(Self.gridContent()).bytes).write(to: URL(fileURLWithPath: rigPath))
        let output = folder.appendingPathComponent("frames").path

        var command = try PreviewCommand.parse([audio, "-o", output, "--rig", rigPath, "--model", Self.tinyModel, "--size", "48", "--fps", "25"])
        try command.validate()
        try command.run()

        let model = try ModelHandle(path: Self.tinyModel)
        let session = try SessionHandle(model: model, threads: 1, fps: 25)
        let frames = try session.animateHandle(path: audio).frameCount
        #expect(frames >= 10)
        let written = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasSuffix(".png") }.sorted()
        #expect(written.count == frames)
        #expect(written.first == PNGDirectorySink.fileName(0) && written.last == PNGDirectorySink.fileName(frames - 1))
        let first = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output + "/" + PNGDirectorySink.fileName(0))))
        let image = try #require(PNGDecoder.decode(first))
        #expect(image.width == 48 && image.height == 48)

        // --frames renders only the range, named by frame index.
        let stills = folder.appendingPathComponent("stills").path
        command = try PreviewCommand.parse([audio, "-o", stills, "--rig", rigPath, "--model", Self.tinyModel, "--size", "32", "--frames", "3-4"])
        try command.run()
        #expect(try FileManager.default.contentsOfDirectory(atPath: stills).sorted() == [PNGDirectorySink.fileName(3), PNGDirectorySink.fileName(4)])
    }

    /// The engine's vertices-space test model (48-vertex template with 70 faces).
    static let verticesModel = repositoryRoot.appendingPathComponent("Tests/KMTalkEngineTests/Fixtures/kmtalk-vertices.safetensors").path

    @Test func aVerticesSpaceModelRendersItsOwnTemplate() throws {
        let folder = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let audio = folder.appendingPathComponent("clip.wav").path
        try Self.writeSpeechLikeWAV(audio, seconds: 0.6)
        let output = folder.appendingPathComponent("frames").path
        try PreviewCommand.parse([audio, "-o", output, "--model", Self.verticesModel, "--size", "48", "--frames", "0-5", "--quiet"]).run()
        let written = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        #expect(written == (0...5).map(PNGDirectorySink.fileName))
        // The template is drawn (not an empty background), and it moves between frames.
        let images = try written.map { try #require(PNGDecoder.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: output + "/" + $0))))) }
        let background = images[0].rgb[0..<3]
        #expect(images[0].rgb.count == 48 * 48 * 3)
        #expect(stride(from: 0, to: images[0].rgb.count, by: 3).contains { Array(images[0].rgb[$0..<($0 + 3)]) != Array(background) })
        #expect(Set(images.map(\.rgb)).count > 1, "the frames differ")
        // The mesh: the template minus nothing, with the model's faces, and lip motion to frame on.
        let model = try ModelHandle(path: Self.verticesModel)
        let animation = try SessionHandle(model: model, threads: 1, fps: 25).animateHandle(path: audio)
        let mesh = try PreviewMesh.template(of: animation)
        #expect(mesh.vertexCount == 48 && mesh.faces.count == 70 * 3 && mesh.rig == nil)
        #expect(mesh.lipMotion.contains { $0 > 0 })
        // A rig is refused for such a model.
        #expect(throws: (any Error).self) {
            try PreviewCommand.parse([audio, "-o", output, "--model", Self.verticesModel, "--rig", Self.headRig]).run()
        }
    }

    @Test func optionsAreValidated() {
        #expect(throws: (any Error).self) { try PreviewCommand.parse(["a.wav", "-o", "x", "--size", "15"]) }
        #expect(throws: (any Error).self) { try PreviewCommand.parse(["a.wav", "-o", "x", "--crop", "eyes"]) }
        #expect(throws: (any Error).self) { try PreviewCommand.parse(["a.wav", "-o", "x.mp4", "--frames", "1-2"]) }
        #expect(throws: (any Error).self) { try PreviewCommand.parse(["a.wav", "-o", "x", "--frames", "5-2"]) }
        #expect(throws: Never.self) { try PreviewCommand.parse(["a.wav", "-o", "x", "--frames", "7"]) }
    }

    @Test func theRendererFramesTheMeshAndDarkensAnOpenedCavity() throws {
        let rig = try Self.gridRig()
        let renderer = try PreviewRenderer(rig: RigHandle(bytes: RigWriter.encode(Self.gridContent()).bytes), size: 64, crop: .full).renderer
        let neutral = renderer.render(vertices: rig.vertices)
        // The grid faces the camera and fills the frame but for the margin: corners are background.
        func luma(_ rgb: [UInt8], _ x: Int, _ y: Int) -> Int {
            let p = 3 * (y * 64 + x)
            return (Int(rgb[p]) + Int(rgb[p + 1]) + Int(rgb[p + 2])) / 3
        }
        #expect(luma(neutral, 32, 32) > 120, "lit surface facing the camera")
        #expect(luma(neutral, 0, 0) < 80, "background outside the mesh")
        // jawOpen pushes the centre 2 units back: a pit the cavity shading darkens.
        var opened = rig.vertices
        opened[3 * Self.centre + 2] -= 2
        let pit = renderer.render(vertices: opened)
        #expect(luma(pit, 32, 32) < luma(neutral, 32, 32) / 2, "\(luma(pit, 32, 32)) vs \(luma(neutral, 32, 32))")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: headRig), "models/kmtalk-head.rig.safetensors missing"))
    func theDefaultHeadShowsADarkMouthWhenTheJawOpens() throws {
        let rig = try Rig(path: Self.headRig)
        let size = Int(ProcessInfo.processInfo.environment["KMTALK_RENDER_SIZE"] ?? "") ?? 128
        let renderer = try PreviewRenderer(rig: RigHandle(path: Self.headRig), size: size, crop: .mouth).renderer
        let jaw = try #require(rig.shapeNames.firstIndex(of: "jawOpen"))
        let width = rig.vertexCount * 3
        let open = zip(rig.vertices, rig.deltas.data[(jaw * width)..<((jaw + 1) * width)]).map { $0 + $1 }
        func darkPixels(_ rgb: [UInt8]) -> Int {
            stride(from: 0, to: rgb.count, by: 3).filter { Int(rgb[$0]) + Int(rgb[$0 + 1]) + Int(rgb[$0 + 2]) < 3 * 45 }.count
        }
        let closedImage = renderer.render(vertices: rig.vertices)
        let openImage = renderer.render(vertices: open)
        if let keep = ProcessInfo.processInfo.environment["KMTALK_KEEP_RENDERS"] {
            try Data(PNGEncoder.encode(rgb: closedImage, width: size, height: size)!).write(to: URL(fileURLWithPath: keep + "/head-neutral.png"))
            try Data(PNGEncoder.encode(rgb: openImage, width: size, height: size)!).write(to: URL(fileURLWithPath: keep + "/head-jawOpen.png"))
        }
        // The open mouth adds a dark hole of at least 2% of the mouth close-up.
        #expect(darkPixels(openImage) - darkPixels(closedImage) > size * size / 50, "\(darkPixels(openImage)) vs \(darkPixels(closedImage))")
    }
}
