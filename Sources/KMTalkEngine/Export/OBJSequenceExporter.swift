/// Writes one frame of a posed mesh (a rig, or a vertices-space model's template) as
/// Wavefront OBJ text: a comment naming the frame, its time and the units, `v x y z` per
/// vertex (the posed positions in the mesh's units, shortest text that reads back as the
/// exact float), `vt u v` per vertex when the mesh has texture coordinates (v up, as OBJ
/// and the rig agree), and one `f` line per triangle (1-based, counter-clockwise seen from
/// outside; `f a/a b/b c/c` with texture coordinates). A template without faces gives the
/// `v` lines alone (a point set). `AnimationExporter` writes one such file per frame.
struct OBJSequenceExporter {
    /// The mesh whose faces and texture coordinates every frame shares.
    let mesh: AnimationMesh
    /// The `vt` and `f` lines, the same in every frame.
    private let sharedTail: [UInt8]

    /// Prepares the lines every frame repeats.
    init(mesh: AnimationMesh) {
        self.mesh = mesh
        var tail = ByteBuffer()
        if let uvs = mesh.uvs {
            for vertex in 0..<mesh.vertexCount {
                tail.append("vt \(NumberText.shortest(uvs[vertex * 2])) \(NumberText.shortest(uvs[vertex * 2 + 1]))\n")
            }
        }
        let withUVs = mesh.uvs != nil
        for face in 0..<mesh.faceCount {
            var line = "f"
            for corner in 0..<3 {
                let index = Int(mesh.faces[face * 3 + corner]) + 1
                line += withUVs ? " \(index)/\(index)" : " \(index)"
            }
            tail.append(line + "\n")
        }
        sharedTail = tail.bytes
    }

    /// The OBJ text of frame `frame` of `frameCount` at `time` seconds, whose posed
    /// vertices are `vertices` (V x 3 floats).
    func encode(vertices: UnsafeBufferPointer<Float>, frame: Int, frameCount: Int, time: Double) -> [UInt8] {
        var out = ByteBuffer(capacity: mesh.vertexCount * 36 + sharedTail.count + 128)
        out.append("# KMTalk \(libraryVersion): frame \(frame + 1) of \(frameCount), t = \(NumberText.fixed(time, decimals: 6)) s, units \(mesh.units.rawValue)\n")
        for vertex in 0..<mesh.vertexCount {
            let base = vertex * 3
            out.append("v \(NumberText.shortest(vertices[base])) \(NumberText.shortest(vertices[base + 1])) \(NumberText.shortest(vertices[base + 2]))\n")
        }
        out.append(bytes: sharedTail)
        return out.bytes
    }
}
