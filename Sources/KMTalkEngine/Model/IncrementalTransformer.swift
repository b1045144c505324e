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

    /// While set (a speculative run, `checkpoint()` to `rollback(to:)`), no row is dropped:
    /// the run only appends, so the rollback restores the state by truncating.
    private var speculative = false

    /// What a speculative run changes: per layer the rows held and the counters.
    struct Checkpoint {
        fileprivate let held: [Int]
        fileprivate let bases: [Int]
        fileprivate let received: [Int]
        fileprivate let emitted: [Int]
    }

    /// Starts a speculative run on this stack itself (instead of on a `copy()`, whose first
    /// append copies every kept buffer): until `rollback(to:)` nothing is dropped.
    func checkpoint() -> Checkpoint {
        speculative = true
        return Checkpoint(held: inputs.map(\.count), bases: bases, received: received, emitted: emitted)
    }

    /// Ends a speculative run: the stack is as it was at `checkpoint`.
    func rollback(to checkpoint: Checkpoint) {
        for layer in inputs.indices {
            let extra = inputs[layer].count - checkpoint.held[layer]
            inputs[layer].removeLast(extra)
            keys[layer].removeLast(extra)
            values[layer].removeLast(extra)
        }
        bases = checkpoint.bases
        received = checkpoint.received
        emitted = checkpoint.emitted
        speculative = false
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
        Self.push([Push(stack: self, rows: rows, ended: ended, limit: limit, from: from)])[0]
    }

    /// One stack's share of a batched push: its new input rows and how far to run them
    /// (as `push(_:ended:limit:from:)`).
    struct Push {
        let stack: IncrementalTransformer
        let rows: Tensor
        let ended: Bool
        let limit: Int?
        let from: Int?
    }

    /// Pushes to several stacks at once, each as `push(_:ended:limit:from:)` would (the
    /// results in the same order; a stack may appear only once). Every stack must run the
    /// same weights (one model's encoder, or one model's completion network): each layer's
    /// norms and matrix products then run once over all the stacks' rows, so many live
    /// streams share one pass over the weights instead of one pass each, and only the
    /// attention runs per stack, over its own kept rows. Rows are computed with the same
    /// arithmetic as alone up to float rounding (a larger product may take another kernel).
    static func push(_ pushes: [Push]) -> [Tensor] {
        guard let weights = pushes.first?.stack.stack else { return [] }
        precondition(
            pushes.allSatisfy { $0.stack.width == pushes[0].stack.width && $0.stack.stack.layers.count == weights.layers.count },
            "IncrementalTransformer.push: the stacks differ in shape")
        var xs = pushes.map(\.rows)
        let layers = weights.layers.count
        for layer in 0..<layers {
            xs = step(layer, pushes: pushes, newRows: xs, last: layer == layers - 1)
        }
        return xs
    }

    /// Rows of the concatenation of `parts` ([rows, width] each); the one part itself when
    /// there is one.
    private static func concatenated(_ parts: [Tensor], width: Int) -> Tensor {
        let nonEmpty = parts.filter { $0.shape[0] > 0 }
        if nonEmpty.count == 1 { return nonEmpty[0] }
        var data: [Float] = []
        data.reserveCapacity(nonEmpty.reduce(0) { $0 + $1.data.count })
        for part in nonEmpty { data.append(contentsOf: part.data) }
        return Tensor(shape: [data.count / max(width, 1), width], data: data)
    }

    /// One layer of a batched push: the norm and K, V rows of every stack's new rows in
    /// one pass; then, over the rows each stack emits, the queries, the per-stack band
    /// attention and the feed-forward tail in one pass.
    private static func step(_ index: Int, pushes: [Push], newRows: [Tensor], last isLast: Bool) -> [Tensor] {
        let weights = pushes[0].stack.stack, band = pushes[0].stack.band, d = pushes[0].stack.width
        let layer = weights.layers[index]
        // The norm and the K and V rows of the new rows, split by rows over the call's
        // threads when there are enough of them (an offline sequence).
        let added = newRows.map { $0.shape[0] }
        let allNew = concatenated(newRows, width: d)
        let totalAdded = allNew.shape[0]
        var newNormed: [Tensor?] = Array(repeating: nil, count: pushes.count)
        if totalAdded > 0 {
            let parts = WorkerThreads.map(
                WorkerThreads.ranges(totalAdded, parts: WorkerThreads.parts(for: totalAdded, minimumPerPart: minimumRowsPerThread), alignment: 64)
            ) { range in
                let normed = layerNorm(slice(allNew, range), gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: weights.epsilon)
                return (
                    normed: normed,
                    keys: layer.attention.keyProjection(normed).data,
                    values: layer.attention.valueProjection(normed).data)
            }
            let normed = parts.count == 1 ? parts[0].normed : Tensor(shape: [totalAdded, d], data: parts.flatMap { $0.normed.data })
            let keys = parts.count == 1 ? parts[0].keys : parts.flatMap(\.keys)
            let values = parts.count == 1 ? parts[0].values : parts.flatMap(\.values)
            // Appending to an empty buffer shares the rows instead of copying them (the
            // offline push of a whole sequence).
            func append(_ rows: [Float], _ range: Range<Int>, to buffer: inout [Float]) {
                if range.count == rows.count, buffer.isEmpty { buffer = rows } else { buffer.append(contentsOf: rows[range]) }
            }
            var start = 0
            for (i, push) in pushes.enumerated() where added[i] > 0 {
                let stack = push.stack, range = (start * d)..<((start + added[i]) * d)
                append(newRows[i].data, 0..<newRows[i].data.count, to: &stack.inputs[index])
                append(keys, range, to: &stack.keys[index])
                append(values, range, to: &stack.values[index])
                stack.received[index] += added[i]
                newNormed[i] = added[i] == totalAdded ? normed : rows(normed, start..<(start + added[i]))
                start += added[i]
            }
        }
        // Per stack: the rows to emit, their input rows and their norm.
        struct Segment {
            let stack: IncrementalTransformer
            /// Where the stack's emitted rows start in the concatenation.
            let start: Int
            let count: Int
            /// The absolute row of the first emitted row.
            let queryStart: Int
        }
        var segments: [Segment] = []
        var owns: [Tensor] = [], ownNormeds: [Tensor] = []
        var lasts = [Int](repeating: 0, count: pushes.count)
        var rowsEmitted = 0
        for (i, push) in pushes.enumerated() {
            let stack = push.stack, layers = weights.layers.count
            let limit = push.limit.map { $0 + (layers - 1 - index) * band.ahead }
            let from = isLast ? push.from : nil
            let total = stack.received[index], base = stack.bases[index]
            let first = stack.emitted[index]
            let last = max(first, min(push.ended ? total : total - band.ahead, limit ?? .max))
            lasts[i] = last
            guard last > first else { continue }
            let count = last - first
            let skip = from.map { min(max($0 - first, 0), count) } ?? 0
            guard count > skip else { continue }
            let fresh = first == total - added[i]
            let own = newRows[i].shape[0] == count && fresh
                ? newRows[i] : Tensor(shape: [count, d], data: Array(stack.inputs[index][((first - base) * d)..<((last - base) * d)]))
            // The rows to emit are exactly the new ones (offline: all of them): reuse their norm.
            let ownNormed = own.shape[0] == added[i] && fresh ? newNormed[i]!
                : layerNorm(own, gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: weights.epsilon)
            owns.append(slice(own, skip..<count))
            ownNormeds.append(slice(ownNormed, skip..<count))
            segments.append(Segment(stack: stack, start: rowsEmitted, count: count - skip, queryStart: first + skip))
            rowsEmitted += count - skip
        }
        // Queries, attention and the feed-forward tail of the rows to emit, split by rows
        // (on 64-row boundaries: attention's query blocks stay the same) like the above.
        var results = [Tensor](repeating: Tensor(zeros: [0, d]), count: pushes.count)
        if rowsEmitted > 0 {
            let own = concatenated(owns, width: d), ownNormed = concatenated(ownNormeds, width: d)
            let heads = weights.heads
            let x = WorkerThreads.rows(rowsEmitted, width: d, minimumPerPart: minimumRowsPerThread) { part in
                tiledRows(part, width: d, tile: tileRows) { tile in
                    let q = layer.attention.queryProjection(slice(ownNormed, tile))
                    // Each stack's queries attend to its own kept rows.
                    var context: [Float] = []
                    for segment in segments {
                        let lower = max(tile.lowerBound, segment.start), upper = min(tile.upperBound, segment.start + segment.count)
                        guard upper > lower else { continue }
                        let stack = segment.stack
                        let queries = slice(q, (lower - tile.lowerBound)..<(upper - tile.lowerBound))
                        let piece = stack.keys[index].withUnsafeBufferPointer { k in
                            stack.values[index].withUnsafeBufferPointer { v in
                                attentionContext(
                                    queries: queries, queryStart: segment.queryStart + (lower - segment.start),
                                    keys: k.baseAddress!, values: v.baseAddress!, keyBase: stack.bases[index],
                                    keyEnd: stack.received[index], heads: heads, band: band)
                            }
                        }
                        if context.isEmpty { context = piece } else { context.append(contentsOf: piece) }
                    }
                    return weights.feedForward(
                        layer,
                        add(slice(own, tile),
                            layer.attention.outputProjection(Tensor(shape: [tile.count, d], data: context))))
                }
            }
            var segmentIndex = 0
            for (i, push) in pushes.enumerated() where segmentIndex < segments.count && segments[segmentIndex].stack === push.stack {
                let segment = segments[segmentIndex]
                results[i] = segments.count == 1 ? x : rows(x, segment.start..<(segment.start + segment.count))
                segmentIndex += 1
            }
        }
        for (i, push) in pushes.enumerated() {
            push.stack.finishStep(index, last: lasts[i], ended: push.ended)
        }
        return results
    }

    /// Records that layer `index` emitted its rows up to `last` and drops the rows no
    /// later output can see.
    private func finishStep(_ index: Int, last: Int, ended: Bool) {
        let total = received[index], base = bases[index]
        guard last > emitted[index] else { return }
        emitted[index] = last
        guard !speculative else { return }
        if ended && last == total {
            // Every row is out: nothing is seen again.
            inputs[index] = []
            keys[index] = []
            values[index] = []
            bases[index] = total
            return
        }
        // Rows before `last - back` are never seen again; they are dropped in batches of
        // `trimRows` (each drop moves the kept window to the front of the buffers).
        let keep = max(base, last - band.back)
        if keep - base >= Self.trimRows {
            let drop = (keep - base) * width
            inputs[index].removeFirst(drop)
            keys[index].removeFirst(drop)
            values[index].removeFirst(drop)
            bases[index] = keep
        }
    }
}
