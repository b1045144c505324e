import Glibc

/// The transformer's sinusoidal positions for one width:
/// `pe[t, 2i] = sin(t / 10000^(2i / width))`, `pe[t, 2i + 1] = cos(t / 10000^(2i / width))`.
///
/// Row `t` is computed in double precision by one angle addition from the anchor `a = t -
/// t % positionAnchorSpacing` (sin and cos of `a * f` evaluated directly) and the offset
/// `k = t - a` (sin and cos of `k * f` precomputed here, once per width). A row's value
/// therefore depends only on its absolute position, never on where a call starts
/// (streaming and offline agree bit for bit), its error stays ~1e-16, far below float
/// rounding, and a call costs one sin and cos per pair per anchor it crosses: streaming
/// adds a few rows at a time, which used to rotate up to 63 steps from the anchor on every
/// call (~3 % of a live stream's CPU).
struct SinusoidalPositions: Sendable {
    /// Columns of each row.
    let width: Int
    /// Per pair: the frequency `10000^(-2i / width)`.
    private let frequencies: [Double]
    /// [spacing, pairs]: sin and cos of `k * frequency` for k < positionAnchorSpacing.
    private let offsetSin: [Double], offsetCos: [Double]

    init(width: Int) {
        self.width = width
        let pairs = (width + 1) / 2
        frequencies = (0..<pairs).map { exp(-Double(2 * $0) * log(10000.0) / Double(width)) }
        var sines = [Double](repeating: 0, count: positionAnchorSpacing * pairs)
        var cosines = sines
        for k in 0..<positionAnchorSpacing {
            for (pair, frequency) in frequencies.enumerated() {
                sines[k * pairs + pair] = sin(Double(k) * frequency)
                cosines[k * pairs + pair] = cos(Double(k) * frequency)
            }
        }
        offsetSin = sines
        offsetCos = cosines
    }

    /// Adds rows `offset ..< offset + rows` of the table to `x` (`rows * width` floats).
    func add(to x: UnsafeMutablePointer<Float>, rows: Int, offset: Int) {
        let pairs = frequencies.count, spacing = positionAnchorSpacing
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * pairs) { anchors in
            let anchorSin = anchors.baseAddress!, anchorCos = anchors.baseAddress! + pairs
            frequencies.withUnsafeBufferPointer { frequency in
                offsetSin.withUnsafeBufferPointer { ks in
                    offsetCos.withUnsafeBufferPointer { kc in
                        var anchor = -1
                        for t in 0..<rows {
                            let position = t + offset
                            let a = position - position % spacing, k = position - a
                            if a != anchor {
                                anchor = a
                                for pair in 0..<pairs {
                                    anchorSin[pair] = sin(Double(a) * frequency[pair])
                                    anchorCos[pair] = cos(Double(a) * frequency[pair])
                                }
                            }
                            let row = x + t * width
                            for pair in 0..<pairs {
                                let s = anchorSin[pair], c = anchorCos[pair]
                                let sk = ks[k * pairs + pair], ck = kc[k * pairs + pair]
                                row[2 * pair] += Float(s * ck + c * sk)
                                if 2 * pair + 1 < width { row[2 * pair + 1] += Float(c * ck - s * sk) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `x` [T, width] plus rows `offset ..< offset + T` of the table.
    func added(to x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == width, "positions: width mismatch")
        var output = x.data
        output.withUnsafeMutableBufferPointer { add(to: $0.baseAddress!, rows: x.shape[0], offset: offset) }
        return Tensor(shape: x.shape, data: output)
    }

    /// The table rows `offset ..< offset + length` [length, width].
    func table(length: Int, offset: Int = 0) -> Tensor {
        added(to: Tensor(shape: [length, width], data: [Float](repeating: 0, count: length * width)), offset: offset)
    }
}

/// The sinusoidal position table [length, width] (see `SinusoidalPositions`); `offset`
/// shifts the positions (for streaming continuations). Models keep a
/// `SinusoidalPositions` so the per-width tables are computed once.
func sinusoidalPositions(length: Int, width: Int, offset: Int = 0) -> Tensor {
    SinusoidalPositions(width: width).table(length: length, offset: offset)
}

/// Rows between the positions where `SinusoidalPositions` evaluates sin and cos directly.
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
