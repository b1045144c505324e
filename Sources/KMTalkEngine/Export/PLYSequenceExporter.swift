/// Writes one frame of a posed mesh (a rig, or a vertices-space model's template) as a
/// binary little-endian PLY (format 1.0): an ASCII header with comments naming the frame,
/// its time and the units, `element vertex V` with float `x y z` (plus float `s t`
/// texture coordinates, v up, when the mesh has them), `element face F` with
/// `list uchar int vertex_indices`; then the vertex records and the triangles
/// (counter-clockwise seen from outside). A template without faces has no face element
/// (a point cloud). `AnimationExporter` writes one such file per frame.
struct PLYSequenceExporter {
    /// The mesh whose faces and texture coordinates every frame shares.
    let mesh: AnimationMesh
    /// The face records, the same in every frame.
    private let faceRecords: [UInt8]

    /// Prepares the records every frame repeats.
    init(mesh: AnimationMesh) {
        self.mesh = mesh
        var faces = ByteBuffer(capacity: mesh.faceCount * 13)
        for face in 0..<mesh.faceCount {
            faces.append(byte: 3)
            for corner in 0..<3 { faces.append(int32: mesh.faces[face * 3 + corner]) }
        }
        faceRecords = faces.bytes
    }

    /// The PLY bytes of frame `frame` of `frameCount` at `time` seconds, whose posed
    /// vertices are `vertices` (V x 3 floats).
    func encode(vertices: UnsafeBufferPointer<Float>, frame: Int, frameCount: Int, time: Double) -> [UInt8] {
        let uvs = mesh.uvs
        var header = "ply\nformat binary_little_endian 1.0\n"
        header += "comment KMTalk \(libraryVersion): frame \(frame + 1) of \(frameCount), t = \(NumberText.fixed(time, decimals: 6)) s\n"
        header += "comment units \(mesh.units.rawValue)\n"
        header += "element vertex \(mesh.vertexCount)\nproperty float x\nproperty float y\nproperty float z\n"
        if uvs != nil { header += "property float s\nproperty float t\n" }
        if mesh.faceCount > 0 {
            header += "element face \(mesh.faceCount)\nproperty list uchar int vertex_indices\n"
        }
        header += "end_header\n"
        let recordFloats = uvs == nil ? 3 : 5
        var out = ByteBuffer(capacity: header.utf8.count + mesh.vertexCount * recordFloats * 4 + faceRecords.count)
        out.append(header)
        if let uvs {
            for vertex in 0..<mesh.vertexCount {
                for axis in 0..<3 { out.append(float: vertices[vertex * 3 + axis]) }
                out.append(float: uvs[vertex * 2])
                out.append(float: uvs[vertex * 2 + 1])
            }
        } else {
            out.append(floats: UnsafeBufferPointer(rebasing: vertices[0..<(mesh.vertexCount * 3)]))
        }
        out.append(bytes: faceRecords)
        return out.bytes
    }
}
