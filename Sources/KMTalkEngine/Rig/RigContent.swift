/// The contents of a rig before it is written (docs/rig.md): what the importers build and
/// `RigWriter` stores. Plain values; `RigWriter` validates them.
struct RigContent: Sendable {
    /// Neutral positions, V x 3 floats.
    var vertices: [Float]
    /// Triangles, F x 3 vertex indices, counter-clockwise seen from outside.
    var faces: [Int32]
    /// The blendshape names, one per shape of `deltas`.
    var shapeNames: [String]
    /// Per-shape position offsets at weight 1, S x V x 3 floats.
    var deltas: [Float]
    /// Texture coordinates (v up), V x 2 floats, or nil.
    var uvs: [Float]?
    /// Unit neutral normals, V x 3 floats, or nil.
    var normals: [Float]?
    /// The length unit of `vertices` and `deltas`.
    var units: RigUnits
    /// Optional free-text metadata (`description`, `generator`, `license`, `source`, ...),
    /// written after the format keys.
    var extraMetadata: [(key: String, value: String)]

    /// A rig with the given parts.
    init(
        vertices: [Float], faces: [Int32], shapeNames: [String], deltas: [Float],
        uvs: [Float]? = nil, normals: [Float]? = nil, units: RigUnits,
        extraMetadata: [(key: String, value: String)] = []
    ) {
        self.vertices = vertices
        self.faces = faces
        self.shapeNames = shapeNames
        self.deltas = deltas
        self.uvs = uvs
        self.normals = normals
        self.units = units
        self.extraMetadata = extraMetadata
    }

    /// Number of vertices V.
    var vertexCount: Int { vertices.count / 3 }
    /// Number of triangles F.
    var faceCount: Int { faces.count / 3 }
    /// Number of blendshapes S.
    var shapeCount: Int { shapeNames.count }

    /// The largest |delta| of shape `shape` over all vertices.
    func largestDelta(of shape: Int) -> Float {
        let width = vertexCount * 3
        var largest: Float = 0
        for value in deltas[(shape * width)..<((shape + 1) * width)] { largest = max(largest, abs(value)) }
        return largest
    }
}
