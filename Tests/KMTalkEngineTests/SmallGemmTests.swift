import CKMTalkKernels
import Testing

@testable import KMTalkEngine

/// The small-row product kernel (`kmtalk_sgemm_nt_small`, which `BLAS.sgemm` uses for
/// A B^T with few rows) against a double-precision loop: every row count across the
/// four-row blocks, column counts that leave each remainder, odd depths, padded strides,
/// alpha and beta, and beta = 0 ignoring NaN in C as BLAS does.
@Suite struct SmallGemmTests {
    /// A deterministic pseudo-random float in [-1, 1).
    func value(_ i: Int) -> Float { Float((i &* 2_654_435_761) % 2_000_003) / 1_000_001.5 - 1 }

    @Test(arguments: [(1, 1, 1), (1, 5, 7), (2, 9, 16), (3, 3, 33), (4, 6, 8), (5, 11, 24), (7, 4, 257), (9, 13, 64)])
    func matchesADoubleLoop(m: Int, n: Int, k: Int) {
        let lda = k + 3, ldb = k + 1, ldc = n + 2
        let a = (0..<(m * lda)).map { value($0 + 1) }
        let b = (0..<(n * ldb)).map { value($0 + 7_919) }
        for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-1.5, 0.25)] {
            var c = (0..<(m * ldc)).map { beta == 0 ? Float.nan : value($0 + 104_729) }
            let before = c
            kmtalk_sgemm_nt_small(
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, &c, Int32(ldc))
            for r in 0..<m {
                for j in 0..<ldc {
                    let index = r * ldc + j
                    guard j < n else {
                        // Padding between rows of C is never written.
                        #expect(c[index].bitPattern == before[index].bitPattern)
                        continue
                    }
                    var dot = 0.0
                    for t in 0..<k { dot += Double(a[r * lda + t]) * Double(b[j * ldb + t]) }
                    let expected = Double(alpha) * dot + (beta == 0 ? 0 : Double(beta) * Double(before[index]))
                    #expect(abs(Double(c[index]) - expected) < 1e-5 * Double(k).squareRoot() + 1e-6,
                            "m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta) at (\(r), \(j))")
                }
            }
        }
    }

    @Test func linearLayersAgreeAcrossTheSmallRowThreshold() {
        // The same rows through one product of 12 rows (OpenBLAS) and one row at a time
        // (the small kernel): a streaming step and the offline pass see the same layer.
        let inFeatures = 40, outFeatures = 19, rows = 12
        let weight = Tensor(shape: [outFeatures, inFeatures], data: (0..<(outFeatures * inFeatures)).map { value($0 + 11) })
        let bias = Tensor(shape: [outFeatures], data: (0..<outFeatures).map { value($0 + 999) })
        let x = Tensor(shape: [rows, inFeatures], data: (0..<(rows * inFeatures)).map { value($0 + 5_555) })
        let whole = linear(x, weight: weight, bias: bias)
        for row in 0..<rows {
            let single = Tensor(shape: [1, inFeatures], data: Array(x.data[(row * inFeatures)..<((row + 1) * inFeatures)]))
            let one = linear(single, weight: weight, bias: bias)
            for j in 0..<outFeatures {
                #expect(abs(one.data[j] - whole.data[row * outFeatures + j]) < 1e-5)
            }
        }
    }
}
