/// The one implementation of a `TransformerStack`'s layers, run as its input grows: each
/// layer keeps the K and V rows of its recent inputs (computed once per row) and emits
/// output row `t` once its input rows up to `t + ahead` exist (or the sequence has
/// ended), attending to the band `[t - back, t + ahead]` clipped to the sequence through
/// the shared `attentionContext` kernel. Rows no later output can see are dropped, so
/// memory is bounded by the band. The offline stack pushes everything at once with
/// `ended` (`TransformerStack.callAsFunction`); streaming pushes rows as they arrive.
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

    /// Rows per thread below which a layer's rows are not split over threads (one row
    /// costs ~0.3 MFLOP at width 128; a thread costs tens of microseconds to start).
    static let minimumRowsPerThread = 128

    /// Rows `range` of `x`, without a copy when that is all of them.
    private static func slice(_ x: Tensor, _ range: Range<Int>) -> Tensor {
        range == 0..<x.shape[0] ? x : rows(x, range)
    }

    /// Rows per tile of a layer's second half (queries, attention, feed-forward): a long
    /// offline push runs it tile by tile (`tiledRows`), so its intermediates (the
    /// feed-forward's hidden rows above all: 4x the width) are a few hundred kilobytes the
    /// allocator reuses instead of fresh megabytes the kernel must fault in and zero for
    /// every layer. A multiple of attention's 64-row query blocks.
    static let tileRows = 128

    /// Dead rows a layer's buffers may hold before they are dropped (streaming drops a
    /// row per frame otherwise, moving the whole kept band each time).
    static let trimRows = 16

    /// Output rows of the last layer emitted (or skipped) so far.
    var outputRows: Int { emitted.last ?? 0 }

    /// Rows held, for memory checks.
    var heldRows: Int { inputs.reduce(0) { $0 + $1.count } / max(width, 1) }

    /// Appends input rows [n, width]; returns the output rows that became final ([m, width]).
    /// `limit` (absolute row index) stops the last layer's output before that row, and
    /// each earlier layer `ahead` rows later per layer above it, which is all the limited
    /// rows can see: a speculative run to a target frame computes nothing past it. A
    /// limited stack is not continued afterwards (its rows past the limit are missing).
    /// `from` (absolute row index) skips the last layer's output rows before it: they are
    /// neither computed nor returned, so the result starts at row `max(from, first)` where
    /// `first` is the first row not yet emitted (a speculative run whose earlier rows were
    /// already delivered; such a stack is not continued either).
    func push(_ rows: Tensor, ended: Bool, limit: Int? = nil, from: Int? = nil) -> Tensor {
        var x = rows
        let layers = stack.layers.count
        for layer in 0..<layers {
            x = step(
                layer, newRows: x, ended: ended, limit: limit.map { $0 + (layers - 1 - layer) * band.ahead },
                from: layer == layers - 1 ? from : nil)
        }
        return x
    }

    private func step(_ index: Int, newRows: Tensor, ended: Bool, limit: Int?, from: Int?) -> Tensor {
        let layer = stack.layers[index], d = width
        let added = newRows.shape[0]
        var newNormed: Tensor?
        if added > 0 {
            // The norm and the K and V rows of the new rows, split by rows over the call's
            // threads when there are enough of them (an offline sequence).
            let parts = WorkerThreads.map(
                WorkerThreads.ranges(added, parts: WorkerThreads.parts(for: added, minimumPerPart: Self.minimumRowsPerThread), alignment: 64)
            ) { range in
                let normed = layerNorm(Self.slice(newRows, range), gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: stack.epsilon)
                return (
                    normed: normed,
                    keys: linear(normed, weight: layer.attention.key, bias: layer.attention.keyBias).data,
                    values: linear(normed, weight: layer.attention.value, bias: layer.attention.valueBias).data)
            }
            // Appending to an empty buffer shares the rows instead of copying them (the
            // offline push of a whole sequence).
            func append(_ rows: [Float], to buffer: inout [Float]) {
                if buffer.isEmpty { buffer = rows } else { buffer.append(contentsOf: rows) }
            }
            append(newRows.data, to: &inputs[index])
            for part in parts {
                append(part.keys, to: &keys[index])
                append(part.values, to: &values[index])
            }
            received[index] += added
            newNormed = parts.count == 1 ? parts[0].normed : Tensor(shape: [added, d], data: parts.flatMap { $0.normed.data })
        }
        let total = received[index], base = bases[index]
        let first = emitted[index]
        let last = max(first, min(ended ? total : total - band.ahead, limit ?? .max))
        guard last > first else { return Tensor(zeros: [0, d]) }
        let count = last - first
        let own = newRows.shape[0] == count && first == total - added
            ? newRows : Tensor(shape: [count, d], data: Array(inputs[index][((first - base) * d)..<((last - base) * d)]))
        // The rows to emit are exactly the new ones (offline: all of them): reuse their norm.
        let ownNormed = own.shape[0] == added && first == total - added ? newNormed!
            : layerNorm(own, gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: stack.epsilon)
        // Queries, attention and the feed-forward tail of the rows to emit, split by rows
        // (on 64-row boundaries: attention's query blocks stay the same) like the above.
        let heads = stack.heads, band = band, layers = stack
        let skip = from.map { min(max($0 - first, 0), count) } ?? 0
        let x = keys[index].withUnsafeBufferPointer { k in
            values[index].withUnsafeBufferPointer { v in
                WorkerThreads.rows(count - skip, width: d, minimumPerPart: Self.minimumRowsPerThread) { part in
                    tiledRows(part, width: d, tile: Self.tileRows) { tile in
                        let range = (tile.lowerBound + skip)..<(tile.upperBound + skip)
                        let q = linear(Self.slice(ownNormed, range), weight: layer.attention.query, bias: layer.attention.queryBias)
                        let context = attentionContext(
                            queries: q, queryStart: first + range.lowerBound, keys: k.baseAddress!, values: v.baseAddress!,
                            keyBase: base, keyEnd: total, heads: heads, band: band)
                        return layers.feedForward(
                            layer,
                            add(Self.slice(own, range),
                                linear(Tensor(shape: [range.count, d], data: context), weight: layer.attention.output, bias: layer.attention.outputBias)))
                    }
                }
            }
        }
        emitted[index] = last
        if ended && last == total {
            // Every row is out: nothing is seen again.
            inputs[index] = []
            keys[index] = []
            values[index] = []
            bases[index] = total
            return x
        }
        // Rows before `last - back` are never seen again; they are dropped in batches of
        // `trimRows` (each drop moves the kept window to the front of the buffers).
        let keep = max(base, last - band.back)
        if keep - base >= Self.trimRows {
            let drop = (keep - base) * d
            inputs[index].removeFirst(drop)
            keys[index].removeFirst(drop)
            values[index].removeFirst(drop)
            bases[index] = keep
        }
        return x
    }
}
