import Glibc

/// The transformer's sinusoidal position table [length, width]:
/// `pe[t, 2i] = sin(t / 10000^(2i / width))`, `pe[t, 2i + 1] = cos(t / 10000^(2i / width))`.
/// `offset` shifts the positions (for streaming continuations).
public func sinusoidalPositions(length: Int, width: Int, offset: Int = 0) -> Tensor {
    var table = [Float](repeating: 0, count: length * width)
    for pair in stride(from: 0, to: width, by: 2) {
        let frequency = exp(-Double(pair) * log(10000.0) / Double(width))
        for t in 0..<length {
            let angle = Double(t + offset) * frequency
            table[t * width + pair] = Float(sin(angle))
            if pair + 1 < width { table[t * width + pair + 1] = Float(cos(angle)) }
        }
    }
    return Tensor(shape: [length, width], data: table)
}

/// Adds position rows to `x` [T, D]: row `t` of `x` gets row `t + offset` of `table`
/// [maxLength, D]. The caller guarantees `offset + T <= maxLength`.
public func addPositions(_ x: Tensor, table: Tensor, offset: Int = 0) -> Tensor {
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
