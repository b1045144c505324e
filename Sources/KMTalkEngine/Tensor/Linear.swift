/// Fully connected layer, PyTorch convention: `y = x W^T + b` with `W` of shape
/// [out, in]. Applies to the last dimension of `x`; leading dimensions are kept.
func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    let inFeatures = weight.shape[1]
    let outFeatures = weight.shape[0]
    precondition(x.lastDimension == inFeatures, "linear: input has \(x.lastDimension) features, weight expects \(inFeatures)")
    let rows = x.rows
    var output = [Float](repeating: 0, count: rows * outFeatures)
    if let bias {
        precondition(bias.count == outFeatures, "linear: bias size \(bias.count) != \(outFeatures)")
        output.withUnsafeMutableBufferPointer { out in
            bias.data.withUnsafeBufferPointer { b in
                for row in 0..<rows {
                    (out.baseAddress! + row * outFeatures).update(from: b.baseAddress!, count: outFeatures)
                }
            }
        }
    }
    x.data.withUnsafeBufferPointer { a in
        weight.data.withUnsafeBufferPointer { w in
            output.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(
                    transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                    a: a.baseAddress!, lda: inFeatures, b: w.baseAddress!, ldb: inFeatures,
                    beta: bias == nil ? 0 : 1, c: c.baseAddress!, ldc: outFeatures)
            }
        }
    }
    return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], data: output)
}
