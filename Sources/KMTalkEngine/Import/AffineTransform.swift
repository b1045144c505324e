/// A 3D affine transform in double precision: `p' = linear * p + translation`. What a
/// glTF node's `matrix` or translation / rotation / scale describe.
struct AffineTransform: Sendable, Equatable {
    /// The 3 x 3 linear part, row-major: `linear[3 * row + column]`.
    var linear: [Double]
    /// The translation.
    var translation: [Double]

    /// The identity.
    static let identity = AffineTransform(linear: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0])

    /// A transform from its parts.
    init(linear: [Double], translation: [Double]) {
        self.linear = linear
        self.translation = translation
    }

    /// A glTF `matrix`: 16 numbers in column-major order, the last row (0, 0, 0, 1).
    init(columnMajor m: [Double]) {
        linear = [m[0], m[4], m[8], m[1], m[5], m[9], m[2], m[6], m[10]]
        translation = [m[12], m[13], m[14]]
    }

    /// Translation * rotation (unit quaternion x, y, z, w) * scale, glTF's TRS order.
    init(translation t: [Double], rotation q: [Double], scale s: [Double]) {
        let length = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).squareRoot()
        let (x, y, z, w) = length > 0 ? (q[0] / length, q[1] / length, q[2] / length, q[3] / length) : (0, 0, 0, 1)
        let r = [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ]
        linear = (0..<9).map { r[$0] * s[$0 % 3] }
        translation = t
    }

    /// `self` applied after `inner`: p -> self(inner(p)).
    func concatenating(_ inner: AffineTransform) -> AffineTransform {
        var product = [Double](repeating: 0, count: 9)
        var moved = translation
        for row in 0..<3 {
            for column in 0..<3 {
                for k in 0..<3 { product[3 * row + column] += linear[3 * row + k] * inner.linear[3 * k + column] }
                moved[row] += linear[3 * row + column] * inner.translation[column]
            }
        }
        return AffineTransform(linear: product, translation: moved)
    }

    /// The determinant of the linear part (negative for a mirroring transform).
    var determinant: Double {
        let m = linear
        return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    /// The inverse transpose of the linear part, the matrix normals transform by (row-major),
    /// up to a positive scale: the cofactor matrix times the sign of the determinant.
    var normalMatrix: [Double] {
        let m = linear
        let sign: Double = determinant < 0 ? -1 : 1
        return [
            m[4] * m[8] - m[5] * m[7], m[5] * m[6] - m[3] * m[8], m[3] * m[7] - m[4] * m[6],
            m[2] * m[7] - m[1] * m[8], m[0] * m[8] - m[2] * m[6], m[1] * m[6] - m[0] * m[7],
            m[1] * m[5] - m[2] * m[4], m[2] * m[3] - m[0] * m[5], m[0] * m[4] - m[1] * m[3],
        ].map { $0 * sign }
    }

    /// Whether this is the identity.
    var isIdentity: Bool { self == .identity }

    /// Transforms the points `xyz` (x, y, z triples) in place: linear part, plus the
    /// translation when `translate`.
    func apply(to xyz: inout [Float], translate: Bool) {
        Self.multiply(linear, translate ? translation : [0, 0, 0], &xyz)
    }

    /// Transforms the normals `xyz` in place by the normal matrix and renormalises them.
    func applyToNormals(_ xyz: inout [Float]) {
        Self.multiply(normalMatrix, [0, 0, 0], &xyz)
        for base in stride(from: 0, to: xyz.count - 2, by: 3) {
            let length = (xyz[base] * xyz[base] + xyz[base + 1] * xyz[base + 1] + xyz[base + 2] * xyz[base + 2]).squareRoot()
            if length > 0 {
                for k in 0..<3 { xyz[base + k] /= length }
            }
        }
    }

    private static func multiply(_ m: [Double], _ t: [Double], _ xyz: inout [Float]) {
        for base in stride(from: 0, to: xyz.count - 2, by: 3) {
            let x = Double(xyz[base]), y = Double(xyz[base + 1]), z = Double(xyz[base + 2])
            for row in 0..<3 {
                xyz[base + row] = Float(m[3 * row] * x + m[3 * row + 1] * y + m[3 * row + 2] * z + t[row])
            }
        }
    }
}
