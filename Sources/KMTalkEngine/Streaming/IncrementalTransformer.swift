import Glibc

/// A `TransformerStack` run row by row as its input grows: each layer keeps the K and V
/// rows of its recent inputs (computed once per row) and emits output row `t` once its
/// input rows up to `t + ahead` exist (or the sequence has ended), attending exactly to
/// the offline band `[t - back, t + ahead]` clipped to the sequence. Rows no later output
/// can see are dropped, so memory is bounded by the band.
final class IncrementalTransformer {
    private let stack: TransformerStack
    private let band: AttentionBand
    private let width: Int
    /// Per layer: input rows, their K and V rows (from absolute row `base`), the number of
    /// input rows received and of output rows emitted.
    private var inputs: [[Float]]
    private var keys: [[Float]]
    private var values: [[Float]]
    private var bases: [Int]
    private var received: [Int]
    private var emitted: [Int]

    init(stack: TransformerStack, band: AttentionBand, width: Int) {
        self.stack = stack
        self.band = band
        self.width = width
        let count = stack.layers.count
        inputs = Array(repeating: [], count: count)
        keys = Array(repeating: [], count: count)
        values = Array(repeating: [], count: count)
        bases = Array(repeating: 0, count: count)
        received = Array(repeating: 0, count: count)
        emitted = Array(repeating: 0, count: count)
    }

    /// An independent copy of the state (for speculative look-ahead).
    func copy() -> IncrementalTransformer {
        let other = IncrementalTransformer(stack: stack, band: band, width: width)
        other.inputs = inputs
        other.keys = keys
        other.values = values
        other.bases = bases
        other.received = received
        other.emitted = emitted
        return other
    }

    /// Rows held, for memory checks.
    var heldRows: Int { inputs.reduce(0) { $0 + $1.count } / max(width, 1) }

    /// Appends input rows [n, width]; returns the output rows that became final ([m, width]).
    func push(_ rows: Tensor, ended: Bool) -> Tensor {
        var x = rows
        for layer in 0..<stack.layers.count {
            x = step(layer, newRows: x, ended: ended)
        }
        return x
    }

    private func step(_ index: Int, newRows: Tensor, ended: Bool) -> Tensor {
        let layer = stack.layers[index], d = width, heads = stack.heads, headWidth = d / heads
        let added = newRows.shape[0]
        if added > 0 {
            inputs[index].append(contentsOf: newRows.data)
            let normed = layerNorm(newRows, gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: stack.epsilon)
            keys[index].append(contentsOf: linear(normed, weight: layer.attention.key, bias: layer.attention.keyBias).data)
            values[index].append(contentsOf: linear(normed, weight: layer.attention.value, bias: layer.attention.valueBias).data)
            received[index] += added
        }
        let total = received[index], base = bases[index]
        let first = emitted[index]
        let last = ended ? total : max(first, total - band.ahead)
        guard last > first else { return Tensor(zeros: [0, d]) }
        let count = last - first
        let own = Tensor(shape: [count, d], data: Array(inputs[index][((first - base) * d)..<((last - base) * d)]))
        let q = linear(
            layerNorm(own, gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: stack.epsilon),
            weight: layer.attention.query, bias: layer.attention.queryBias)
        let scale = 1 / Float(headWidth).squareRoot()
        var context = [Float](repeating: 0, count: count * d)
        var scores = [Float](repeating: 0, count: band.back + band.ahead + 1)
        keys[index].withUnsafeBufferPointer { k in
            values[index].withUnsafeBufferPointer { v in
                scores.withUnsafeMutableBufferPointer { s in
                    for r in 0..<count {
                        let t = first + r
                        let lo = max(0, t - band.back), hi = min(total - 1, t + band.ahead)
                        for head in 0..<heads {
                            let column = head * headWidth
                            for j in lo...hi {
                                var dot: Float = 0
                                let kr = (j - base) * d + column, qr = r * d + column
                                for c in 0..<headWidth { dot += q.data[qr + c] * k[kr + c] }
                                s[j - lo] = dot * scale
                            }
                            softmaxInPlace(s.baseAddress!, count: hi - lo + 1)
                            let out = r * d + column
                            for j in lo...hi {
                                let p = s[j - lo], vr = (j - base) * d + column
                                for c in 0..<headWidth { context[out + c] += p * v[vr + c] }
                            }
                        }
                    }
                }
            }
        }
        var x = add(own, linear(Tensor(shape: [count, d], data: context), weight: layer.attention.output, bias: layer.attention.outputBias))
        var hidden = linear(
            layerNorm(x, gamma: layer.norm2Weight, beta: layer.norm2Bias, epsilon: stack.epsilon),
            weight: layer.fc1Weight, bias: layer.fc1Bias)
        stack.activation.apply(&hidden.data)
        x = add(x, linear(hidden, weight: layer.fc2Weight, bias: layer.fc2Bias))
        emitted[index] = last
        // Rows before `last - back` are never seen again.
        let keep = max(base, last - band.back)
        if keep > base {
            let drop = (keep - base) * d
            inputs[index].removeFirst(drop)
            keys[index].removeFirst(drop)
            values[index].removeFirst(drop)
            bases[index] = keep
        }
        return x
    }
}
