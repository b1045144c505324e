import CKMTalk
import Foundation

/// Everything the web page shows, gathered through the C API like any host: the
/// animation's weights (`kmt_animation_read_frames`), the rig's mesh and one morph target
/// per channel (the rig's deltas, `kmt_rig_read_deltas`, summed over the shapes each
/// channel drives by `kmt_rig_shape_channels`), per-vertex colours from the rig's `parts` and
/// `landmarks` metadata (as `kmtalk preview` paints them) and the audio as decoded.
struct WebViewerScene {
    /// Shown as the page's title (the audio's file name).
    var title: String
    var fps: Double
    var channels: [String]
    /// Row-major [frames, channels], exactly the library's weights.
    var weights: [Float]
    var frameCount: Int { channels.isEmpty ? 0 : weights.count / channels.count }
    /// Neutral positions, V x 3 floats, metres.
    var positions: [Float]
    /// Triangles, F x 3 vertex indices, counter-clockwise seen from outside.
    var indices: [UInt32]
    /// Linear albedo per vertex, V x 3, 0-255 for 0-1.
    var albedos: [UInt8]
    /// One target per channel that moves the mesh.
    var targets: [SparseMorphTarget]
    /// The embedded audio: a 16-bit mono WAV.
    var audio: [UInt8]
    var audioSampleRate: Int
    var audioSeconds: Double
    /// Notes for the page's footer: model, rig and source file names.
    var details: [String: String] = [:]

    var vertexCount: Int { positions.count / 3 }

    /// The scene for `animation` of `audio` posed on `rig`. Errors: the library's.
    init(title: String, animation: AnimationHandle, rig: RigHandle, audio: AudioHandle) throws {
        self.title = title
        let result = try AnimationResult(animation.pointer)
        fps = result.fps
        channels = result.channels
        weights = result.values

        let scale = rig.metresPerUnit
        let shapeCount = rig.shapeCount
        positions = try rig.vertices().map { $0 * scale }
        indices = try rig.faces().map { UInt32(bitPattern: $0) }

        var drivers = [Int32](repeating: -1, count: shapeCount)
        var written = 0
        let status = kmt_rig_shape_channels(rig.pointer, animation.pointer, &drivers, drivers.count, &written)
        guard status == KMT_OK else { throw libraryError(status) }
        var perChannel = [[Float]?](repeating: nil, count: channels.count)
        for (shape, driver) in drivers.enumerated() where driver >= 0 && Int(driver) < channels.count {
            var sum = perChannel[Int(driver)] ?? [Float](repeating: 0, count: positions.count)
            let deltas = try rig.deltas(shape: shape)
            for k in sum.indices { sum[k] += deltas[k] * scale }
            perChannel[Int(driver)] = sum
        }
        targets = perChannel.enumerated().compactMap { channel, deltas in
            deltas.flatMap { SparseMorphTarget(channel: channel, deltas: $0) }
        }
        albedos = Self.albedos(rig: rig, positions: positions)

        audioSampleRate = Int(audio.sampleRate)
        audioSeconds = Double(audio.samples.count) / Double(max(1, audioSampleRate))
        self.audio = WAVEncoder.encode(audio.samples, sampleRate: audioSampleRate)
    }

    /// Per-vertex linear albedos (0-255) as `kmtalk preview` paints the rig: skin, and where
    /// the rig's `parts` metadata names them the inside of the mouth, the tongue and the
    /// eyeballs (iris and pupil around the `landmarks` pupils).
    static func albedos(rig: RigHandle, positions: [Float]) -> [UInt8] {
        let vertexCount = positions.count / 3
        var colours = [Float](repeating: 0, count: vertexCount * 3)
        func paint(_ range: Range<Int>, _ colour: (Int) -> PreviewColors.RGB) {
            for vertex in range {
                let c = colour(vertex)
                colours[3 * vertex] = c.0
                colours[3 * vertex + 1] = c.1
                colours[3 * vertex + 2] = c.2
            }
        }
        paint(0..<vertexCount) { _ in PreviewColors.skin }
        func object(_ key: String) -> [String: Any]? {
            RigFileOutput.metadata(rig.pointer, key).flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        let landmarks = object("landmarks")
        for (name, value) in object("parts") ?? [:] {
            guard let bounds = value as? [Int], bounds.count == 2, bounds[0] >= 0, bounds[0] <= bounds[1], bounds[1] <= vertexCount
            else { continue }
            let range = bounds[0]..<bounds[1]
            switch name {
            case "mouth_inner": paint(range) { _ in PreviewColors.mouthInner }
            case "tongue": paint(range) { _ in PreviewColors.tongue }
            case let eye where eye.hasPrefix("eyeball"):
                if let pupil = landmarks?[eye.hasSuffix("left") ? "pupil_left" : "pupil_right"] as? Int, range.contains(pupil) {
                    paint(range, PreviewColors.eyeColours(range: range, pupil: pupil, vertices: positions))
                } else {
                    paint(range) { _ in PreviewColors.sclera }
                }
            default: continue
            }
        }
        return colours.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
    }
}
