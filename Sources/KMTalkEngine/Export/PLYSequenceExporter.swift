/// Writes one frame of a posed rig as a binary little-endian PLY (format 1.0): an ASCII
/// header with comments naming the frame, its time and the units, `element vertex V`
/// with float `x y z` (plus float `s t` texture coordinates, v up, when the rig has them),
/// `element face F` with `list uchar int vertex_indices`; then the vertex records and the
/// triangles (counter-clockwise seen from outside). `AnimationExporter` writes one such
/// file per frame.
struct PLYSequenceExporter {
    /// The rig whose faces and texture coordinates every frame shares.
    let rig: Rig
    /// The face records, the same in every frame.
    private let faceRecords: [UInt8]

    /// Prepares the records every frame repeats.
    init(rig: Rig) {
        self.rig = rig
        var faces = ByteBuffer(capacity: rig.faceCount * 13)
        for face in 0..<rig.faceCount {
            faces.append(byte: 3)
            for corner in 0..<3 { faces.append(int32: rig.faces[face * 3 + corner]) }
        }
        faceRecords = faces.bytes
    }

    /// The PLY bytes of frame `frame` of `frameCount` at `time` seconds, whose posed
    /// vertices are `vertices` (V x 3 floats).
    func encode(vertices: UnsafeBufferPointer<Float>, frame: Int, frameCount: Int, time: Double) -> [UInt8] {
        let uvs = rig.uvs
        var header = "ply\nformat binary_little_endian 1.0\n"
        header += "comment KMTalk \(libraryVersion): frame \(frame + 1) of \(frameCount), t = \(NumberText.fixed(time, decimals: 6)) s\n"
        header += "comment units \(rig.units.rawValue)\n"
        header += "element vertex \(rig.vertexCount)\nproperty float x\nproperty float y\nproperty float z\n"
        if uvs != nil { header += "property float s\nproperty float t\n" }
        header += "element face \(rig.faceCount)\nproperty list uchar int vertex_indices\nend_header\n"
        let recordFloats = uvs == nil ? 3 : 5
        var out = ByteBuffer(capacity: header.utf8.count + rig.vertexCount * recordFloats * 4 + faceRecords.count)
        out.append(header)
        if let uvs {
            for vertex in 0..<rig.vertexCount {
                for axis in 0..<3 { out.append(float: vertices[vertex * 3 + axis]) }
                out.append(float: uvs[vertex * 2])
                out.append(float: uvs[vertex * 2 + 1])
            }
        } else {
            out.append(floats: UnsafeBufferPointer(rebasing: vertices[0..<(rig.vertexCount * 3)]))
        }
        out.append(bytes: faceRecords)
        return out.bytes
    }
}
