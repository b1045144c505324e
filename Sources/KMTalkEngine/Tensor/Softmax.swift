import Glibc

/// Numerically stable softmax of `count` values in place. Entries equal to -infinity get
/// probability 0; a row that is entirely -infinity becomes all zeros.
@inline(__always)
func softmaxInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for i in 0..<count { maximum = max(maximum, values[i]) }
    guard maximum > -Float.infinity else {
        values.update(repeating: 0, count: count)
        return
    }
    var sum: Float = 0
    for i in 0..<count {
        let e = expf(values[i] - maximum)
        values[i] = e
        sum += e
    }
    let scale = 1 / sum
    for i in 0..<count { values[i] *= scale }
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
