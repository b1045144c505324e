
/// A character rig (docs/rig.md): a neutral mesh plus named blendshape deltas, loaded from
/// a `kmtalk-rig` safetensors file and fully validated. Immutable, so any thread may read
/// it. What `kmt_rig` points to.
///
/// Posed vertices for shape weights `w` [S] are `vertices + sum_s w[s] * deltas[s]`
/// (see `VertexSolver`).
final class Rig: Sendable {
    /// The tensors a version-1 rig may hold; any other name is refused.
    static let knownTensors: Set<String> = ["vertices", "faces", "deltas", "uvs", "normals"]

    /// Number of vertices V (at least 3).
    let vertexCount: Int
    /// Number of triangles F (at least 1).
    let faceCount: Int
    /// Neutral positions, V x 3 floats (x, y, z per vertex).
    let vertices: [Float]
    /// Triangles, F x 3 vertex indices in 0..<V, counter-clockwise seen from outside.
    let faces: [Int32]
    /// Per-shape position offsets at weight 1 as one matrix [S, V * 3] (converted to
    /// float32 when the file stores F16).
    let deltas: Tensor
    /// Texture coordinates, V x 2 floats, when the file has them.
    let uvs: [Float]?
    /// Unit neutral normals, V x 3 floats, when the file has them.
    let normals: [Float]?
    /// The length unit of `vertices` and `deltas`.
    let units: RigUnits
    /// The file's `__metadata__` entries.
    let metadata: [(key: String, value: String)]
    /// The shape names as C strings, in the order of `deltas`.
    let names: CStringTable
    /// Matches channel names onto `shapeNames`, indexed once at load.
    let matcher: ChannelMatcher

    /// Number of blendshapes S.
    var shapeCount: Int { names.count }
    /// The blendshape names, in the order of `deltas`.
    var shapeNames: [String] { names.strings }

    /// Validates `file` as a rig; `source` names it in errors. Errors:
    /// KMT_ERR_UNSUPPORTED_FORMAT (not a rig, or a newer format version) and
    /// KMT_ERR_CORRUPT_RIG (every other rule of docs/rig.md).
    init(file: SafeTensorsFile, source: String) throws {
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(detail)") }
        let metadata = try RigMetadata(file.metadata, source: source)
        if let unknown = file.names.first(where: { !Self.knownTensors.contains($0) }) {
            throw corrupt("unknown tensor '\(unknown)' (a version-1 rig holds vertices, faces, deltas and optionally uvs, normals)")
        }
        guard file.unclaimedDataBytes == 0 else {
            throw corrupt("\(file.unclaimedDataBytes) bytes of the data section belong to no tensor (size inconsistent with the header)")
        }

        /// The float tensor `name` with dtype among `dtypes`, or nil when absent and optional.
        func floatTensor(_ name: String, _ dtypes: [SafeTensorsDType], optional: Bool = false) throws -> Tensor? {
            guard let dtype = file.storedTypes[name] else {
                if optional { return nil }
                throw corrupt("missing tensor '\(name)'")
            }
            guard dtypes.contains(dtype), let tensor = file.tensors[name] else {
                throw corrupt("tensor '\(name)' is \(dtype.rawValue), a rig stores it as \(dtypes.map(\.rawValue).joined(separator: " or "))")
            }
            if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                throw corrupt("tensor '\(name)' holds a non-finite value (\(tensor.data[bad])) at element \(bad)")
            }
            return tensor
        }

        let vertices = try floatTensor("vertices", [.f32])!
        guard vertices.shape.count == 2, vertices.shape[1] == 3 else {
            throw corrupt("tensor 'vertices' has shape \(vertices.shape), expected [V, 3]")
        }
        let vertexCount = vertices.shape[0]
        guard vertexCount >= 3 else { throw corrupt("the rig has \(vertexCount) vertices, at least 3 are needed") }

        guard let facesType = file.storedTypes["faces"] else { throw corrupt("missing tensor 'faces'") }
        guard facesType == .i32, let faces = file.integerTensors["faces"] else {
            throw corrupt("tensor 'faces' is \(facesType.rawValue), a rig stores it as I32")
        }
        guard faces.shape.count == 2, faces.shape[1] == 3 else {
            throw corrupt("tensor 'faces' has shape \(faces.shape), expected [F, 3]")
        }
        guard faces.shape[0] >= 1 else { throw corrupt("the rig has no faces, at least 1 is needed") }
        if let bad = faces.data.firstIndex(where: { $0 < 0 || $0 >= vertexCount }) {
            throw corrupt("face \(bad / 3) refers to vertex \(faces.data[bad]), outside 0..<\(vertexCount)")
        }

        let deltas = try floatTensor("deltas", [.f32, .f16])!
        guard deltas.shape.count == 3, deltas.shape[1] == vertexCount, deltas.shape[2] == 3 else {
            throw corrupt("tensor 'deltas' has shape \(deltas.shape), expected [S, \(vertexCount), 3]")
        }
        guard deltas.shape[0] == metadata.channels.count else {
            throw corrupt("tensor 'deltas' holds \(deltas.shape[0]) shape\(deltas.shape[0] == 1 ? "" : "s") but metadata channels names \(metadata.channels.count)")
        }

        let uvs = try floatTensor("uvs", [.f32], optional: true)
        if let uvs, uvs.shape != [vertexCount, 2] {
            throw corrupt("tensor 'uvs' has shape \(uvs.shape), expected [\(vertexCount), 2]")
        }
        let normals = try floatTensor("normals", [.f32], optional: true)
        if let normals, normals.shape != [vertexCount, 3] {
            throw corrupt("tensor 'normals' has shape \(normals.shape), expected [\(vertexCount), 3]")
        }

        self.vertexCount = vertexCount
        self.faceCount = faces.shape[0]
        self.vertices = vertices.data
        self.faces = faces.data.map { Int32(truncatingIfNeeded: $0) }
        self.deltas = deltas.reshaped([metadata.channels.count, vertexCount * 3])
        self.uvs = uvs?.data
        self.normals = normals?.data
        self.units = metadata.units
        self.metadata = file.metadata
        self.names = CStringTable(metadata.channels)
        self.matcher = ChannelMatcher(shapeNames: metadata.channels)
    }

    /// Loads a rig file from disk (KMT_ERR_IO when it cannot be read).
    convenience init(path: String) throws {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: path, kind: "rig")
        } catch let error as KMTError where error.kind == .corruptModel {
            throw KMTError.corruptRig(error.message)
        }
        try self.init(file: file, source: path)
    }

    /// Loads a rig from bytes in memory; nothing refers to `bytes` afterwards.
    convenience init(bytes: UnsafeRawBufferPointer, source: String = "rig buffer") throws {
        try self.init(file: Self.container(bytes, source: source), source: source)
    }

    /// Loads a rig from a byte array.
    convenience init(bytes: [UInt8], source: String = "rig buffer") throws {
        let file = try bytes.withUnsafeBytes { try Self.container($0, source: source) }
        try self.init(file: file, source: source)
    }

    /// Parses the safetensors container, reporting its errors as a corrupt rig (the
    /// container reader speaks of models).
    private static func container(_ bytes: UnsafeRawBufferPointer, source: String) throws -> SafeTensorsFile {
        do {
            return try SafeTensorsFile(bytes: bytes, source: source)
        } catch let error as KMTError where error.kind == .corruptModel {
            throw KMTError.corruptRig(error.message)
        }
    }

    /// The metadata value under `key`, or nil.
    func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }
}
