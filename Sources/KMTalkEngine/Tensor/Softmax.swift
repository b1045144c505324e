import KMTalkVector

/// Numerically stable softmax of `count` values in place (`VectorMath.softmaxInPlace`).
/// Entries equal to -infinity get probability 0; a row that is entirely -infinity becomes
/// all zeros.
@inline(__always)
func softmaxInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
    VectorMath.softmaxInPlace(values, count: count)
}

/// Softmax over the last dimension.
public func softmax(_ x: Tensor) -> Tensor {
    var output = x.data
    let width = x.lastDimension
    output.withUnsafeMutableBufferPointer { out in
        for row in 0..<x.rows {
            softmaxInPlace(out.baseAddress! + row * width, count: width)
        }
    }
    return Tensor(shape: x.shape, data: output)
}
