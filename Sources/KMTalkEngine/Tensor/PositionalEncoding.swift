import Glibc

/// The transformer's sinusoidal position table [length, width]:
/// `pe[t, 2i] = sin(t / 10000^(2i / width))`, `pe[t, 2i + 1] = cos(t / 10000^(2i / width))`.
/// `offset` shifts the positions (for streaming continuations).
///
/// Computed in double precision by rotation (angle addition) from anchors at every
/// multiple of `positionAnchorSpacing`, where sin and cos are evaluated directly: a row's
/// value depends only on its absolute position, never on where a call starts (streaming
/// and offline agree bit for bit), and the error stays ~1e-14, far below float rounding.
/// Direct sin and cos for every entry cost ~6 % of an offline run.
func sinusoidalPositions(length: Int, width: Int, offset: Int = 0) -> Tensor {
    var table = [Float](repeating: 0, count: length * width)
    guard length > 0 else { return Tensor(shape: [length, width], data: table) }
    let spacing = positionAnchorSpacing
    table.withUnsafeMutableBufferPointer { out in
        for pair in stride(from: 0, to: width, by: 2) {
            let frequency = exp(-Double(pair) * log(10000.0) / Double(width))
            let stepSin = sin(frequency), stepCos = cos(frequency)
            var s = 0.0, c = 1.0
            for t in 0..<length {
                let target = t + offset
                if t == 0 || target % spacing == 0 {
                    // Exact at the anchor, then rotated to an unaligned first position.
                    let anchor = target - target % spacing
                    s = sin(Double(anchor) * frequency)
                    c = cos(Double(anchor) * frequency)
                    for _ in anchor..<target { (s, c) = (s * stepCos + c * stepSin, c * stepCos - s * stepSin) }
                } else {
                    (s, c) = (s * stepCos + c * stepSin, c * stepCos - s * stepSin)
                }
                out[t * width + pair] = Float(s)
                if pair + 1 < width { out[t * width + pair + 1] = Float(c) }
            }
        }
    }
    return Tensor(shape: [length, width], data: table)
}

/// Rows between the positions where `sinusoidalPositions` evaluates sin and cos directly.
let positionAnchorSpacing = 64

/// Adds position rows to `x` [T, D]: row `t` of `x` gets row `t + offset` of `table`
/// [maxLength, D]. The caller guarantees `offset + T <= maxLength`.
func addPositions(_ x: Tensor, table: Tensor, offset: Int = 0) -> Tensor {
    let length = x.shape[0], width = x.shape[1]
    precondition(table.shape.count == 2 && table.shape[1] == width, "positions: width mismatch")
    precondition(offset >= 0 && offset + length <= table.shape[0], "positions: table has \(table.shape[0]) rows, need \(offset + length)")
    var output = x.data
    output.withUnsafeMutableBufferPointer { out in
        table.data.withUnsafeBufferPointer { pe in
            for i in 0..<(length * width) { out[i] += pe[offset * width + i] }
        }
    }
    return Tensor(shape: x.shape, data: output)
}
