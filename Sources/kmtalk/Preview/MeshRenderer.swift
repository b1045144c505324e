import Foundation

/// Renders posed meshes of one topology to RGB images: area-weighted vertex normals,
/// Lambert shading per vertex (a key light from the viewer's upper left, a soft light from
/// the camera, a little ambient), z-buffered rasterization with back faces culled, then
/// `CavityShading` darkening enclosed recesses (the inside of an open mouth, nostrils),
/// and a gamma-encoded 8-bit RGB result on a dark gradient.
struct MeshRenderer {
    /// Triangles, F x 3 vertex indices, counter-clockwise seen from outside.
    let faces: [Int32]
    let camera: PreviewCamera
    /// Cavity darkening, or nil to skip it.
    var cavity: CavityShading?
    /// Linear surface colour.
    var albedo: (Float, Float, Float) = PreviewColors.skin
    /// Per-vertex linear colours (V x 3), overriding `albedo` when set.
    var albedos: [Float]?
    /// Unit direction towards the key light.
    var light: (Float, Float, Float) = MeshRenderer.normalized(-0.35, 0.45, 1.0)
    var keyStrength: Float = 0.72
    /// A light from the camera (weighted by the normal's z), filling the key's shadows.
    var fillStrength: Float = 0.22
    var ambient: Float = 0.06

    /// The linear-to-sRGB-ish (gamma 2.2) table for 8-bit output, 1024 steps over 0-1.
    private let gamma: [UInt8] = (0..<1024).map { UInt8(min(255, (pow(Double($0) / 1023, 1 / 2.2) * 255).rounded())) }

    static func normalized(_ x: Float, _ y: Float, _ z: Float) -> (Float, Float, Float) {
        let length = (x * x + y * y + z * z).squareRoot()
        return (x / length, y / length, z / length)
    }

    /// Area-weighted unit vertex normals of `vertices` (x, y, z triples) for `faces`.
    static func vertexNormals(_ vertices: [Float], faces: [Int32]) -> [Float] {
        var normals = [Float](repeating: 0, count: vertices.count)
        vertices.withUnsafeBufferPointer { v in
            normals.withUnsafeMutableBufferPointer { n in
                for face in stride(from: 0, to: faces.count - 2, by: 3) {
                    let i0 = 3 * Int(faces[face]), i1 = 3 * Int(faces[face + 1]), i2 = 3 * Int(faces[face + 2])
                    let ax = v[i1] - v[i0], ay = v[i1 + 1] - v[i0 + 1], az = v[i1 + 2] - v[i0 + 2]
                    let bx = v[i2] - v[i0], by = v[i2 + 1] - v[i0 + 1], bz = v[i2 + 2] - v[i0 + 2]
                    let cx = ay * bz - az * by, cy = az * bx - ax * bz, cz = ax * by - ay * bx
                    for i in [i0, i1, i2] {
                        n[i] += cx
                        n[i + 1] += cy
                        n[i + 2] += cz
                    }
                }
                for i in stride(from: 0, to: n.count - 2, by: 3) {
                    let length = (n[i] * n[i] + n[i + 1] * n[i + 1] + n[i + 2] * n[i + 2]).squareRoot()
                    if length > 0 {
                        n[i] /= length
                        n[i + 1] /= length
                        n[i + 2] /= length
                    }
                }
            }
        }
        return normals
    }

    /// Renders `vertices` (V x 3 floats, the rig's topology) into 8-bit RGB.
    func render(vertices: [Float]) -> [UInt8] {
        let width = camera.width, height = camera.height
        var target = Rasterizer(width: width, height: height)
        let normals = Self.vertexNormals(vertices, faces: faces)
        let vertexCount = vertices.count / 3
        var screen = [ScreenVertex](repeating: ScreenVertex(x: 0, y: 0, depth: 0, r: 0, g: 0, b: 0), count: vertexCount)
        for vertex in 0..<vertexCount {
            let nx = normals[3 * vertex], ny = normals[3 * vertex + 1], nz = normals[3 * vertex + 2]
            let lambert = max(0, nx * light.0 + ny * light.1 + nz * light.2)
            let intensity = ambient + keyStrength * lambert + fillStrength * max(0, nz)
            let colour = albedos.map { ($0[3 * vertex], $0[3 * vertex + 1], $0[3 * vertex + 2]) } ?? albedo
            screen[vertex] = ScreenVertex(
                x: camera.pixelX(vertices[3 * vertex]), y: camera.pixelY(vertices[3 * vertex + 1]),
                depth: -vertices[3 * vertex + 2],
                r: colour.0 * intensity, g: colour.1 * intensity, b: colour.2 * intensity)
        }
        for face in stride(from: 0, to: faces.count - 2, by: 3) {
            target.drawTriangle(screen[Int(faces[face])], screen[Int(faces[face + 1])], screen[Int(faces[face + 2])])
        }
        if let cavity {
            cavity.darken(&target, pixelsPerUnit: camera.scale)
        }

        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let t = Float(y) / Float(max(1, height - 1))
            let background: [Float] = [0.055 - 0.04 * t, 0.062 - 0.045 * t, 0.08 - 0.055 * t]
            for x in 0..<width {
                let pixel = y * width + x
                let drawn = target.depth[pixel].isFinite
                for k in 0..<3 {
                    let value = drawn ? target.color[3 * pixel + k] : background[k]
                    rgb[3 * pixel + k] = gamma[Int(min(1, max(0, value)) * 1023)]
                }
            }
        }
        return rgb
    }
}
