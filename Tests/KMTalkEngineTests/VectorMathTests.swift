import Glibc
import Testing

@testable import KMTalkEngine
@testable import KMTalkVector

/// The vectorised exp and erf against Glibc's scalar `exp`/`erf` in double precision,
/// over dense grids, at the edges and for the special values; the activations and the
/// softmax built on them against the scalar formulas on lengths that leave every tail
/// size.
@Suite struct VectorMathTests {
    /// `count` evenly spaced points in [lower, upper].
    func grid(_ lower: Float, _ upper: Float, count: Int) -> [Float] {
        (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) }
    }

    func mapped(_ xs: [Float], _ f: (VectorMath.Lanes) -> VectorMath.Lanes) -> [Float] {
        var values = xs
        values.withUnsafeMutableBufferPointer { VectorMath.map($0.baseAddress!, count: $0.count, lanes: f) }
        return values
    }

    @Test func expIsWithinThreeTenMillionthsRelative() {
        let xs = grid(-87.3, 88.3, count: 200_003)
        let ys = mapped(xs, VectorMath.exp)
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let exact = Glibc.exp(Double(x))
            worst = max(worst, abs(Double(y) - exact) / exact)
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
    }

    @Test func expSpecialValues() {
        let ys = mapped([-.infinity, -1000, -87.4, 0, 89, .infinity, .nan, 1], VectorMath.exp)
        #expect(ys[0] == 0 && ys[1] == 0 && ys[2] == 0)
        #expect(ys[3] == 1)
        #expect(ys[4] == .infinity && ys[5] == .infinity)
        #expect(ys[6].isNaN)
        #expect(abs(ys[7] - 2.7182817) < 1e-6)
    }

    @Test func erfIsWithinFiveTenMillionthsAbsolute() {
        let xs = grid(-8, 8, count: 160_001)
        let ys = mapped(xs, VectorMath.erf)
        var worst = 0.0
        for (x, y) in zip(xs, ys) { worst = max(worst, abs(Double(y) - Glibc.erf(Double(x)))) }
        #expect(worst < 5e-7, "worst absolute error \(worst)")
        let special = mapped([-.infinity, .infinity, .nan, 0], VectorMath.erf)
        #expect(special[0] == -1 && special[1] == 1 && special[2].isNaN && special[3] == 0)
    }

    @Test(arguments: [1, 7, 8, 9, 15, 16, 17, 100])
    func activationsMatchTheScalarFormulas(count: Int) {
        let xs = grid(-9, 9, count: count + 1).dropLast().map { $0 + 0.37 }
        let x = Tensor(shape: [xs.count], data: Array(xs))
        for (index, value) in gelu(x).data.enumerated() {
            let v = Double(xs[index])
            #expect(abs(Double(value) - 0.5 * v * (1 + Glibc.erf(v / 2.0.squareRoot()))) < 2e-6)
        }
        for (index, value) in silu(x).data.enumerated() {
            let v = Double(xs[index])
            #expect(abs(Double(value) - v / (1 + Glibc.exp(-v))) < 2e-6)
        }
        for (index, value) in sigmoid(x).data.enumerated() {
            #expect(abs(Double(value) - 1 / (1 + Glibc.exp(-Double(xs[index])))) < 1e-6)
        }
    }

    @Test(arguments: [1, 3, 8, 11, 16, 29])
    func softmaxMatchesTheScalarFormulaForEveryTail(count: Int) {
        let xs = (0..<count).map { Float(($0 * 37) % 23) * 0.4 - 3 }
        let y = softmax(Tensor(shape: [1, count], data: xs)).data
        let top = Double(xs.max()!)
        let total = xs.reduce(0.0) { $0 + Glibc.exp(Double($1) - top) }
        for (index, value) in y.enumerated() {
            #expect(abs(Double(value) - Glibc.exp(Double(xs[index]) - top) / total) < 1e-6)
        }
        #expect(abs(y.reduce(0, +) - 1) < 1e-5)
    }

    @Test(arguments: [8, 16, 256, 10])
    func layerNormMatchesADoubleReference(width: Int) {
        let rows = 5
        let data: [Float] = (0..<(rows * width)).map { i in
            let wave = Float(sin(Double(i) * 0.37))
            return wave * Float(1 + i % 7) + 3
        }
        let gamma: [Float] = (0..<width).map { i in 0.5 + Float(i % 5) * 0.25 }
        let beta: [Float] = (0..<width).map { i in Float(i % 3) - 1 }
        let y = layerNorm(
            Tensor(shape: [rows, width], data: data), gamma: Tensor(shape: [width], data: gamma),
            beta: Tensor(shape: [width], data: beta), epsilon: 1e-5)
        for r in 0..<rows {
            let row: [Double] = data[(r * width)..<((r + 1) * width)].map { Double($0) }
            let mean: Double = row.reduce(0, +) / Double(width)
            var variance = 0.0
            for value in row { variance += (value - mean) * (value - mean) }
            variance /= Double(width)
            let scale: Double = 1 / (variance + 1e-5).squareRoot()
            for i in 0..<width {
                let expected: Double = (row[i] - mean) * scale * Double(gamma[i]) + Double(beta[i])
                #expect(abs(Double(y.data[r * width + i]) - expected) < 2e-5, "width \(width) row \(r) column \(i)")
            }
        }
    }
}
