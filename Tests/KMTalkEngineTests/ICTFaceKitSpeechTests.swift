import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The shipped default model driving the ICT-FaceKit rig (imported from
/// `../shared/data/ict-facekit` when present): speech opens the mouth where the model
/// says the jaw opens, closes it where it says the lips meet, and leaves it at rest in
/// silence, measured on ICT-FaceKit's own lip landmarks. Nothing derived from ICT is
/// written into the repository; the imported rig is cached in the temporary directory.
@Suite struct ICTFaceKitSpeechTests {
    static let folder = OBJFolderImporterTests.ictFolder
    static let modelPath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path
    static let audioPath = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
    static var available: Bool {
        FileManager.default.fileExists(atPath: folder + "/generic_neutral_mesh.obj")
            && FileManager.default.fileExists(atPath: folder + "/" + OBJFolderImporter.manifestName)
            && FileManager.default.fileExists(atPath: modelPath)
    }

    /// The ICT-FaceKit rig in cm (F16 deltas), imported once and cached in the temporary
    /// directory under a name keyed by the neutral mesh's size and date and the library
    /// version; a damaged cache file is re-imported.
    static func cachedRig() throws -> Rig {
        let neutral = try FileManager.default.attributesOfItem(atPath: folder + "/generic_neutral_mesh.obj")
        let size = neutral[.size] as? Int ?? 0
        let date = Int((neutral[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kmtalk-test-cache")
        let path = cache.appendingPathComponent("ict-facekit-\(size)-\(date)-\(libraryVersion).rig.safetensors").path
        if FileManager.default.fileExists(atPath: path), let rig = try? Rig(path: path) { return rig }
        let imported = try OBJFolderImporter.importRig(directory: folder, units: .centimeters)
        let encoded = try RigWriter.encode(imported.rig, deltas: .float16)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let temporary = path + ".\(UUID().uuidString).tmp"
        try Data(encoded.bytes).write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, path)  // atomic: a concurrent run reads a whole file or none
        unlink(temporary)
        return try Rig(bytes: encoded.bytes, source: path)
    }

    /// ICT-FaceKit's 68 landmark vertices (iBUG order: 48...59 outer lips, 60...67 inner).
    static func landmarks() throws -> [Int] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + OBJFolderImporter.manifestName))
        let manifest = try need(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try need(manifest["idx_to_landmark_verts"] as? [Int], "idx_to_landmark_verts")
    }

    @Test(.enabled(if: available, "ICT-FaceKit or the default model not available"))
    func speechOpensAndClosesTheICTMouth() throws {
        let rig = try Self.cachedRig()
        let landmarks = try Self.landmarks()
        try #require(landmarks.count == 68 && landmarks.allSatisfy { $0 >= 0 && $0 < rig.vertexCount })
        let upperInner = landmarks[62], lowerInner = landmarks[66]
        let lips = Array(landmarks[48...67])

        // hello.wav starts speaking at once: 0.6 s of silence before it gives a rest to check.
        let model = try KMTalkModel(path: Self.modelPath)
        let rate = model.config.frontend.sampleRate
        let speech = try AudioDecoder.decode(path: Self.audioPath, targetRate: rate).samples
        let leadIn = Int(0.6 * Double(rate))
        let samples = [Float](repeating: 0, count: leadIn) + speech
        let animation = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions(threads: 1)).animate(
                pcm: $0.baseAddress!, frameCount: samples.count, sampleRate: rate, channels: 1)
        }
        let frames = animation.frameCount
        let solver = VertexSolver(rig: rig, channelNames: animation.channelNames)
        let unmatched = solver.mapping.unmatchedSources.map { animation.channelNames[$0] }
        #expect(unmatched == ["tongueOut"], "every ARKit channel but tongueOut drives an ICT shape: \(unmatched)")
        let posed = try solver.vertices(of: animation, frames: 0..<frames, mode: .absolute)
        #expect(posed.count == frames * rig.vertexCount * 3)

        func position(_ frame: Int?, _ vertex: Int) -> SIMD3<Float> {
            guard let frame else {
                return SIMD3(rig.vertices[vertex * 3], rig.vertices[vertex * 3 + 1], rig.vertices[vertex * 3 + 2])
            }
            let base = (frame * rig.vertexCount + vertex) * 3
            return SIMD3(posed[base], posed[base + 1], posed[base + 2])
        }
        func length(_ v: SIMD3<Float>) -> Float { (v * v).sum().squareRoot() }
        /// Inner-lip aperture in cm: landmark 62 (upper lip) to 66 (lower lip).
        func aperture(_ frame: Int?) -> Float { length(position(frame, upperInner) - position(frame, lowerInner)) }
        /// The largest displacement of a lip landmark from the neutral, in cm.
        func lipMotion(_ frame: Int) -> Float { lips.map { length(position(frame, $0) - position(nil, $0)) }.max()! }

        let jawOpen = try #require(animation.channelNames.firstIndex(of: "jawOpen"))
        let mouthClose = try #require(animation.channelNames.firstIndex(of: "mouthClose"))
        func weight(_ frame: Int, _ channel: Int) -> Float { animation.values.data[frame * animation.channelCount + channel] }
        let speechStart = Int((Double(leadIn) / Double(rate) * animation.fps).rounded())
        let speechFrames = speechStart..<frames
        let widest = speechFrames.max { weight($0, jawOpen) < weight($1, jawOpen) }!
        // The most closed frame of speech: the most mouthClose over jawOpen among frames
        // where the model closes the lips (a /m/, /b/, /p/).
        let closest = speechFrames.max { weight($0, mouthClose) - weight($0, jawOpen) < weight($1, mouthClose) - weight($1, jawOpen) }!
        let rest = aperture(nil)
        let silence = 0..<(speechStart - 5)
        let silentAperture = silence.map { abs(aperture($0) - rest) }.max()!
        let silentMotion = silence.map(lipMotion).max()!
        print(String(format: "ICT: %d frames at %.0f fps; aperture neutral %.3f cm; max jawOpen %.2f at frame %d -> aperture %.3f cm, lip motion %.3f cm; most closed (mouthClose %.2f, jawOpen %.2f) at frame %d -> %.3f cm; silence (frames 0..<%d): aperture within %.3f cm of neutral, lip motion <= %.3f cm",
                     frames, animation.fps, rest, weight(widest, jawOpen), widest, aperture(widest), lipMotion(widest),
                     weight(closest, mouthClose), weight(closest, jawOpen), closest, aperture(closest),
                     silence.upperBound, silentAperture, silentMotion))

        let opening = aperture(widest) - rest
        #expect(aperture(widest) > aperture(closest) + 0.5, "the open vowel parts the lips by at least 5 mm more than the closure")
        #expect(aperture(widest) > 4 * aperture(closest))
        #expect(opening > 0.5, "the open mouth is wider than the neutral by at least 5 mm")
        #expect(aperture(closest) < rest + 0.1 * opening, "the closure is near the neutral (closed) lips")
        // Silence before speech: the mouth near rest (a look-ahead of 5 frames allowed).
        #expect(silentAperture < 0.15 * opening, "silence: aperture \(silentAperture) cm off the neutral")
        #expect(silentMotion < 0.15 * lipMotion(widest), "silence: lip landmarks moved \(silentMotion) cm")
    }
}
