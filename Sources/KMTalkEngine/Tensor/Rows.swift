/// Rows `range` of `x` [T, C].
func rows(_ x: Tensor, _ range: Range<Int>) -> Tensor {
    let width = x.shape[1]
    return Tensor(shape: [range.count, width], data: Array(x.data[(range.lowerBound * width)..<(range.upperBound * width)]))
}

/// Rows `indices` of `x` [T, C].
func rows(_ x: Tensor, _ indices: [Int]) -> Tensor {
    let width = x.shape[1]
    var data = [Float](repeating: 0, count: indices.count * width)
    for (r, i) in indices.enumerated() {
        for j in 0..<width { data[r * width + j] = x.data[i * width + j] }
    }
    return Tensor(shape: [indices.count, width], data: data)
}
