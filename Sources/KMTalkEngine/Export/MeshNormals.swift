/// Vertex normals of a triangle mesh, for exports that need them when the rig has none.
enum MeshNormals {
    /// Unit normals, V x 3 floats: per vertex, the sum of its triangles' area-weighted
    /// normals (counter-clockwise = outside), normalised; +z for a vertex on no triangle or
    /// only on degenerate ones.
    static func compute(vertices: [Float], faces: [Int32], vertexCount: Int) -> [Float] {
        var sums = [Double](repeating: 0, count: vertexCount * 3)
        for face in 0..<(faces.count / 3) {
            let a = Int(faces[face * 3]), b = Int(faces[face * 3 + 1]), c = Int(faces[face * 3 + 2])
            func point(_ index: Int) -> (Double, Double, Double) {
                (Double(vertices[index * 3]), Double(vertices[index * 3 + 1]), Double(vertices[index * 3 + 2]))
            }
            let (pa, pb, pc) = (point(a), point(b), point(c))
            let u = (pb.0 - pa.0, pb.1 - pa.1, pb.2 - pa.2)
            let v = (pc.0 - pa.0, pc.1 - pa.1, pc.2 - pa.2)
            // The cross product's length is twice the area: an area-weighted normal.
            let normal = (u.1 * v.2 - u.2 * v.1, u.2 * v.0 - u.0 * v.2, u.0 * v.1 - u.1 * v.0)
            func add(_ corner: Int) {
                sums[corner * 3] += normal.0
                sums[corner * 3 + 1] += normal.1
                sums[corner * 3 + 2] += normal.2
            }
            add(a)
            add(b)
            add(c)
        }
        return normalized(sums, vertexCount: vertexCount)
    }

    /// `normals` (V x 3) scaled to unit length; +z where a normal is zero or not finite.
    static func normalized(_ normals: [Double], vertexCount: Int) -> [Float] {
        var result = [Float](repeating: 0, count: vertexCount * 3)
        for vertex in 0..<vertexCount {
            let x = normals[vertex * 3], y = normals[vertex * 3 + 1], z = normals[vertex * 3 + 2]
            let length = (x * x + y * y + z * z).squareRoot()
            if length > 1e-30, length.isFinite {
                result[vertex * 3] = Float(x / length)
                result[vertex * 3 + 1] = Float(y / length)
                result[vertex * 3 + 2] = Float(z / length)
            } else {
                result[vertex * 3 + 2] = 1
            }
        }
        return result
    }
}
