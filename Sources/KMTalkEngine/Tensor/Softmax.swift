import KMTalkVector

/// Softmax over the last dimension (`VectorMath.softmaxInPlace` per row: -infinity entries
/// get 0, an all -infinity row becomes zeros).
func softmax(_ x: Tensor) -> Tensor {
    var output = x.data
    let width = x.lastDimension
    output.withUnsafeMutableBufferPointer { out in
        for row in 0..<x.rows {
            VectorMath.softmaxInPlace(out.baseAddress! + row * width, count: width)
        }
    }
    return Tensor(shape: x.shape, data: output)
}
