
/// The template mesh of a vertices-space model (docs/model.md, "Vertices space"): the
/// neutral positions the model's per-frame offsets are added to, and optionally the
/// triangles that make them a surface. Loaded and validated with the model; every
/// animation of such a model carries it, so it poses without a rig. Immutable.
struct VertexTemplate: Sendable {
    /// Tensor holding the neutral positions, F32 [V, 3].
    static let verticesTensor = "motion.template"
    /// Tensor holding the triangles, I32 [F, 3] (optional).
    static let facesTensor = "motion.faces"
    /// Axis suffixes of a vertex's three channels, in channel order.
    static let axes = ["x", "y", "z"]

    /// Number of vertices V (at least 1).
    let vertexCount: Int
    /// Neutral positions, V x 3 floats, in `units`.
    let vertices: [Float]
    /// Triangles, F x 3 vertex indices in 0..<V (counter-clockwise seen from outside);
    /// empty when the model has none (the template is then a point set).
    let faces: [Int32]
    /// The length unit of `vertices` and of the model's offsets.
    let units: RigUnits

    /// Number of triangles F (0 for a point set).
    var faceCount: Int { faces.count / 3 }

    /// A template from its parts. Errors: KMT_ERR_INVALID_ARGUMENT when `vertices` is not
    /// V x 3 finite floats with V >= 1, or `faces` not triangles of indices in 0..<V.
    init(vertices: [Float], faces: [Int32] = [], units: RigUnits = .meters) throws {
        guard !vertices.isEmpty, vertices.count % 3 == 0 else {
            throw KMTError.invalidArgument("a template needs V x 3 floats (V >= 1), got \(vertices.count)")
        }
        if let bad = vertices.firstIndex(where: { !$0.isFinite }) {
            throw KMTError.invalidArgument("template element \(bad) is not finite")
        }
        let vertexCount = vertices.count / 3
        guard faces.count % 3 == 0 else {
            throw KMTError.invalidArgument("template faces need F x 3 indices, got \(faces.count)")
        }
        if let bad = faces.firstIndex(where: { $0 < 0 || Int($0) >= vertexCount }) {
            throw KMTError.invalidArgument("template face \(bad / 3) refers to vertex \(faces[bad]), outside 0..<\(vertexCount)")
        }
        self.vertexCount = vertexCount
        self.vertices = vertices
        self.faces = faces
        self.units = units
    }

    /// The channel names of a V-vertex template: `v0.x, v0.y, v0.z, v1.x, ...`.
    static func channelNames(vertexCount: Int) -> [String] {
        var names: [String] = []
        names.reserveCapacity(vertexCount * 3)
        for vertex in 0..<vertexCount {
            for axis in axes { names.append("v\(vertex).\(axis)") }
        }
        return names
    }

    /// Why `channels` cannot be the channels of a vertices-space model, or nil when they
    /// are exactly `v0.x, v0.y, v0.z, ..., v<V-1>.z` for some V >= 1.
    static func channelNameProblem(_ channels: [String]) -> String? {
        guard channels.count % 3 == 0 else {
            return "motion.space 'vertices' needs 3 channels per vertex, got \(channels.count)"
        }
        for (index, name) in channels.enumerated() {
            let expected = "v\(index / 3).\(axes[index % 3])"
            if name != expected {
                return "motion.space 'vertices': channel \(index) is '\(name)', expected '\(expected)' (channels are v<i>.x, v<i>.y, v<i>.z per vertex, in vertex order)"
            }
        }
        return nil
    }
}
