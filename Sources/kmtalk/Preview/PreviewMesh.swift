import CKMTalk

/// What `kmtalk preview` renders: a rig that an animation of weights poses, or the
/// template mesh a vertices-space animation carries and poses by itself.
struct PreviewMesh {
    /// The neutral positions, V x 3.
    let neutral: [Float]
    /// The triangles, F x 3 vertex indices.
    let faces: [Int32]
    /// Per-vertex colours (V x 3, linear), or nil for the default skin.
    let albedos: [Float]?
    /// How much each vertex moves with the lips (V values, any scale; all 0 when unknown):
    /// what `--crop mouth` centres on.
    let lipMotion: [Float]
    /// The rig to pose with `kmt_animation_vertices`; nil when the animation poses its own
    /// template.
    let rig: RigHandle?

    var vertexCount: Int { neutral.count / 3 }

    /// Shapes whose motion marks the lips, in order of preference (matched by name like
    /// model channels, so ICT or snake-case rigs work too).
    static let lipChannels = ["mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper"]
    /// Used when the rig has none of `lipChannels`.
    static let fallbackChannels = ["mouthClose", "jawOpen"]

    /// A rig: its neutral mesh, its colours (from its "parts" metadata), and the motion of
    /// its lip shapes.
    static func rig(_ rig: RigHandle) throws -> PreviewMesh {
        let vertices = try rig.vertices()
        var shapes = driven(try rig.match(lipChannels))
        if shapes.isEmpty { shapes = driven(try rig.match(fallbackChannels)) }
        var motion = [Float](repeating: 0, count: rig.vertexCount)
        for shape in shapes {
            let deltas = try rig.deltas(shape: shape)
            for vertex in 0..<rig.vertexCount {
                let x = deltas[3 * vertex], y = deltas[3 * vertex + 1], z = deltas[3 * vertex + 2]
                motion[vertex] += (x * x + y * y + z * z).squareRoot()
            }
        }
        let albedos = PreviewColors.albedos(vertices: vertices, metadata: rig.metadata)
        return PreviewMesh(
            neutral: vertices, faces: try rig.faces(), albedos: albedos?.count == vertices.count ? albedos : nil,
            lipMotion: motion, rig: rig)
    }

    /// The template of a vertices-space `animation` (positions minus offsets of frame 0),
    /// its faces, and each vertex's mean displacement over the animation as the lip motion
    /// (speech moves the jaw and lips most). Errors: a template without faces.
    static func template(of animation: AnimationHandle) throws -> PreviewMesh {
        let vertexCount = animation.vertexCount
        let frameCount = animation.frameCount
        guard vertexCount > 0, frameCount > 0 else { throw CLIError("the animation has no template or no frames") }
        var faceCount = 0
        var status = kmt_animation_read_faces(animation.pointer, nil, 0, &faceCount)
        guard status == KMT_OK || status == KMT_ERR_BUFFER_TOO_SMALL else { throw libraryError(status) }
        guard faceCount > 0 else {
            throw CLIError("the model's template has no faces (a point set): preview renders triangles; write PLY or NPY with `kmtalk animate` instead")
        }
        var faces = [Int32](repeating: 0, count: faceCount)
        status = kmt_animation_read_faces(animation.pointer, &faces, faces.count, nil)
        guard status == KMT_OK else { throw libraryError(status) }
        let width = vertexCount * 3
        var posed = [Float](repeating: 0, count: width)
        var offsets = [Float](repeating: 0, count: width)
        status = kmt_animation_vertices(animation.pointer, nil, 0, 1, KMT_VERTICES_ABSOLUTE, &posed, width, nil)
        guard status == KMT_OK else { throw libraryError(status) }
        status = kmt_animation_vertices(animation.pointer, nil, 0, 1, KMT_VERTICES_OFFSETS, &offsets, width, nil)
        guard status == KMT_OK else { throw libraryError(status) }
        let neutral = zip(posed, offsets).map { $0 - $1 }
        // Mean displacement per vertex over up to 256 frames spread over the animation.
        var motion = [Float](repeating: 0, count: vertexCount)
        let step = max(1, frameCount / 256)
        for frame in stride(from: 0, to: frameCount, by: step) {
            status = kmt_animation_vertices(animation.pointer, nil, frame, 1, KMT_VERTICES_OFFSETS, &offsets, width, nil)
            guard status == KMT_OK else { throw libraryError(status) }
            for vertex in 0..<vertexCount {
                let x = offsets[3 * vertex], y = offsets[3 * vertex + 1], z = offsets[3 * vertex + 2]
                motion[vertex] += (x * x + y * y + z * z).squareRoot()
            }
        }
        return PreviewMesh(neutral: neutral, faces: faces, albedos: nil, lipMotion: motion, rig: nil)
    }

    /// The shapes some name drives, from `RigHandle.match`.
    static func driven(_ drivers: [Int?]) -> [Int] {
        drivers.indices.filter { drivers[$0] != nil }
    }
}
