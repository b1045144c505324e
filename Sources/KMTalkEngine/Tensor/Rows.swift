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

/// `body` over `rows` in tiles of `tile` rows, the results ([tile rows, width] each)
/// stacked into [rows, width]. A last tile shorter than half a tile joins the one before
/// it, so no tile of a long range is small enough for the few-row product kernel and
/// every row gets the same arithmetic however the caller splits its rows. Long inputs run
/// tile by tile so that intermediates stay small enough for the allocator to reuse,
/// instead of fresh megabytes that the kernel faults in and zeroes on every call.
func tiledRows(_ rows: Range<Int>, width: Int, tile: Int, _ body: (Range<Int>) -> Tensor) -> Tensor {
    guard rows.count >= tile + tile / 2 else { return body(rows) }
    var data = [Float](repeating: 0, count: rows.count * width)
    data.withUnsafeMutableBufferPointer { out in
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = rows.upperBound - (start + tile) < tile / 2 ? rows.upperBound : start + tile
            let result = body(start..<end)
            result.data.withUnsafeBufferPointer {
                (out.baseAddress! + (start - rows.lowerBound) * width).update(from: $0.baseAddress!, count: $0.count)
            }
            start = end
        }
    }
    return Tensor(shape: [rows.count, width], data: data)
}
