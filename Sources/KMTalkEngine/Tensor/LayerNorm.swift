import KMTalkVector

/// Layer normalization over the last dimension: `(x - mean) / sqrt(var + eps) * gamma + beta`
/// with the biased variance, as PyTorch's `nn.LayerNorm`. Rows whose width is a multiple
/// of 8 (every model's) run eight lanes at a time.
func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) -> Tensor {
    let width = x.lastDimension
    precondition(gamma.count == width && beta.count == width, "layerNorm: parameters do not match width \(width)")
    var output = x.data
    output.withUnsafeMutableBufferPointer { out in
        gamma.data.withUnsafeBufferPointer { g in
            beta.data.withUnsafeBufferPointer { b in
                for row in 0..<x.rows {
                    let values = out.baseAddress! + row * width
                    if width % 8 == 0 {
                        VectorMath.layerNormRow(values, width: width, gamma: g.baseAddress!, beta: b.baseAddress!, epsilon: epsilon)
                        continue
                    }
                    var mean: Float = 0
                    for i in 0..<width { mean += values[i] }
                    mean /= Float(width)
                    var variance: Float = 0
                    for i in 0..<width {
                        let d = values[i] - mean
                        variance += d * d
                    }
                    variance /= Float(width)
                    let scale = 1 / (variance + epsilon).squareRoot()
                    for i in 0..<width {
                        values[i] = (values[i] - mean) * scale * g[i] + b[i]
                    }
                }
            }
        }
    }
    return Tensor(shape: x.shape, data: output)
}
