import Glibc

/// Numerically stable softmax of `count` values in place. Entries equal to -infinity get
/// probability 0; a row that is entirely -infinity becomes all zeros.
@inline(__always)
func softmaxInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
    let maximum = VectorMath.maximum(values, count: count)
    guard maximum > -Float.infinity else {
        values.update(repeating: 0, count: count)
        return
    }
    // Padding the last partial block with -infinity makes its extra lanes e^-inf = 0, so
    // they add nothing to the sum.
    var sums = SIMD8<Float>(repeating: 0)
    VectorMath.map(values, count: count, padding: -.infinity) { x in
        let e = VectorMath.exp(x - maximum)
        sums += e
        return e
    }
    let sum = sums.sum()
    let scale = 1 / sum
    VectorMath.map(values, count: count) { x in x * scale }
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
