import CKMTalkKernels
import Testing

@testable import KMTalkEngine

/// The packed-weight product (`kmtalk_sgemm_packed`, behind `PackedLinear`, which every
/// transformer projection uses) against a double-precision loop, and the property the
/// batched streaming path relies on: a row's result does not depend on the other rows of
/// the call, bit for bit.
@Suite struct PackedLinearTests {
    /// A deterministic pseudo-random float in [-1, 1).
    func value(_ i: Int) -> Float { Float((i &* 2_654_435_761) % 2_000_003) / 1_000_001.5 - 1 }

    func tensor(_ shape: [Int], seed: Int) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { value($0 + seed) })
    }

    // Row counts across the 6-row blocks, the few-row panel groups and the 120-row chunks;
    // column counts that leave a partial last panel or fill panel groups exactly; odd depths.
    @Test(arguments: [
        (1, 1, 1), (1, 16, 8), (1, 64, 33), (1, 52, 128), (2, 31, 7), (2, 32, 64), (3, 17, 5),
        (3, 48, 128), (4, 16, 3), (5, 80, 9), (6, 128, 128), (7, 20, 40), (11, 33, 257),
        (13, 256, 128), (121, 19, 12), (250, 128, 64),
    ])
    func matchesADoubleLoop(rows: Int, outFeatures: Int, inFeatures: Int) {
        let weight = tensor([outFeatures, inFeatures], seed: 7_919)
        for bias in [tensor([outFeatures], seed: 104_729), nil] {
            let layer = PackedLinear(weight: weight, bias: bias)
            let x = tensor([rows, inFeatures], seed: 1)
            let y = layer(x)
            #expect(y.shape == [rows, outFeatures])
            var worst = 0.0
            for r in 0..<rows {
                for j in 0..<outFeatures {
                    var dot = Double(bias?.data[j] ?? 0)
                    for t in 0..<inFeatures { dot += Double(x.data[r * inFeatures + t]) * Double(weight.data[j * inFeatures + t]) }
                    worst = max(worst, abs(Double(y.data[r * outFeatures + j]) - dot))
                }
            }
            #expect(worst < 1e-5 * Double(inFeatures).squareRoot() + 1e-6,
                    "rows \(rows) out \(outFeatures) in \(inFeatures) bias \(bias != nil): largest error \(worst)")
        }
    }

    @Test func agreesWithTheUnpackedLayer() {
        // The packed layer and `linear` (OpenBLAS / the small-row kernel) on a layer of the
        // shipped model's shape.
        let weight = tensor([256, 128], seed: 11), bias = tensor([256], seed: 999)
        let layer = PackedLinear(weight: weight, bias: bias)
        for rows in [1, 5, 9, 200] {
            let x = tensor([rows, 128], seed: rows)
            let packed = layer(x), plain = linear(x, weight: weight, bias: bias)
            let worst = zip(packed.data, plain.data).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5 * Float(128).squareRoot(), "rows \(rows): largest difference \(worst)")
        }
    }

    @Test func aRowsResultDoesNotDependOnTheOtherRows() {
        // The same rows through one product of 130 rows and one row at a time, and through
        // every split into two calls: equal bit for bit (a session pushed alone or batched).
        let inFeatures = 128, outFeatures = 52, rows = 130
        let layer = PackedLinear(weight: tensor([outFeatures, inFeatures], seed: 3), bias: tensor([outFeatures], seed: 5))
        let x = tensor([rows, inFeatures], seed: 17)
        let whole = layer(x)
        func rowsOf(_ range: Range<Int>) -> Tensor {
            Tensor(shape: [range.count, inFeatures], data: Array(x.data[(range.lowerBound * inFeatures)..<(range.upperBound * inFeatures)]))
        }
        for row in 0..<rows {
            let one = layer(rowsOf(row..<(row + 1)))
            #expect(one.data.map(\.bitPattern) == whole.data[(row * outFeatures)..<((row + 1) * outFeatures)].map(\.bitPattern))
        }
        for split in [1, 5, 6, 7, 64, 120, 129] {
            let parts = layer(rowsOf(0..<split)).data + layer(rowsOf(split..<rows)).data
            #expect(parts.map(\.bitPattern) == whole.data.map(\.bitPattern), "split at \(split)")
        }
    }

    @Test func writesOnlyItsRowsAndColumnsWithStrides() {
        // apply() with padded input and output strides leaves the padding untouched.
        let inFeatures = 20, outFeatures = 18, rows = 7, inStride = 23, outStride = 21
        let layer = PackedLinear(weight: tensor([outFeatures, inFeatures], seed: 9), bias: nil)
        let input = (0..<(rows * inStride)).map { value($0 + 77) }
        var output = [Float](repeating: .nan, count: rows * outStride)
        input.withUnsafeBufferPointer { a in
            output.withUnsafeMutableBufferPointer { c in
                layer.apply(rows: rows, input: a.baseAddress!, inputStride: inStride, output: c.baseAddress!, outputStride: outStride)
            }
        }
        let compact = layer(Tensor(shape: [rows, inFeatures], data: (0..<rows).flatMap { r in input[(r * inStride)..<(r * inStride + inFeatures)] }))
        for r in 0..<rows {
            for j in 0..<outStride {
                if j < outFeatures {
                    #expect(output[r * outStride + j].bitPattern == compact.data[r * outFeatures + j].bitPattern)
                } else {
                    #expect(output[r * outStride + j].isNaN)
                }
            }
        }
    }
}
