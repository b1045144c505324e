/// Matrix product `a [m, k] x b [k, n]` -> [m, n] (one sgemm).
func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape.count == 2 && b.shape.count == 2 && a.shape[1] == b.shape[0], "matmul: shapes \(a.shape) x \(b.shape)")
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    var output = [Float](repeating: 0, count: m * n)
    guard m > 0, n > 0 else { return Tensor(shape: [m, n], data: output) }
    a.data.withUnsafeBufferPointer { ap in
        b.data.withUnsafeBufferPointer { bp in
            output.withUnsafeMutableBufferPointer { cp in
                BLAS.sgemm(transposeA: false, transposeB: false, m: m, n: n, k: k,
                           a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
            }
        }
    }
    return Tensor(shape: [m, n], data: output)
}
