import CKMTalkKernels
import KMTalkVector

/// Which keys a query may attend to: key `j` is visible from query `i` when
/// `i - back <= j <= i + ahead`. `ahead` bounds the look-ahead, which is what lets the
/// same weights run in streaming with a fixed latency.
struct AttentionBand: Sendable, Equatable {
    /// Frames visible before the query.
    var back: Int
    /// Frames visible after the query (the look-ahead).
    var ahead: Int

    init(back: Int, ahead: Int) {
        self.back = back
        self.ahead = ahead
    }
}

/// Projection weights of one multi-head self-attention block (PyTorch layout, [out, in]),
/// with each projection also packed for `kmtalk_sgemm_packed` (`PackedLinear`).
struct AttentionWeights: Sendable {
    let query: Tensor, queryBias: Tensor
    let key: Tensor, keyBias: Tensor
    let value: Tensor, valueBias: Tensor
    let output: Tensor, outputBias: Tensor
    /// The four projections, packed once here.
    let queryProjection: PackedLinear, keyProjection: PackedLinear
    let valueProjection: PackedLinear, outputProjection: PackedLinear

    init(
        query: Tensor, queryBias: Tensor, key: Tensor, keyBias: Tensor,
        value: Tensor, valueBias: Tensor, output: Tensor, outputBias: Tensor
    ) {
        self.query = query
        self.queryBias = queryBias
        self.key = key
        self.keyBias = keyBias
        self.value = value
        self.valueBias = valueBias
        self.output = output
        self.outputBias = outputBias
        queryProjection = PackedLinear(weight: query, bias: queryBias)
        keyProjection = PackedLinear(weight: key, bias: keyBias)
        valueProjection = PackedLinear(weight: value, bias: valueBias)
        outputProjection = PackedLinear(weight: output, bias: outputBias)
    }
}

/// Multi-head scaled dot-product self-attention over `x` [T, D] with `heads` heads and
/// an optional band mask; returns [T, D] (the Q/K/V projections, `attentionContext` and
/// the output projection).
func multiHeadSelfAttention(
    _ x: Tensor, weights: AttentionWeights, heads: Int, band: AttentionBand? = nil
) -> Tensor {
    precondition(x.shape.count == 2, "attention: expects x [T, D]")
    let length = x.shape[0], width = x.shape[1]
    precondition(heads > 0 && width % heads == 0, "attention: width \(width) not divisible by \(heads) heads")
    let q = linear(x, weight: weights.query, bias: weights.queryBias)
    let k = linear(x, weight: weights.key, bias: weights.keyBias)
    let v = linear(x, weight: weights.value, bias: weights.valueBias)
    let context = k.data.withUnsafeBufferPointer { kp in
        v.data.withUnsafeBufferPointer { vp in
            attentionContext(
                queries: q, queryStart: 0, keys: kp.baseAddress!, values: vp.baseAddress!, keyBase: 0, keyEnd: length,
                heads: heads, band: band)
        }
    }
    return linear(Tensor(shape: [length, width], data: context), weight: weights.output, bias: weights.outputBias)
}

/// The attention kernel shared by the offline and the incremental transformer: the
/// per-head context rows (before the output projection) of the projected queries
/// `queries` [n, D] at absolute positions `queryStart ..< queryStart + n`, against the
/// projected key and value rows [*, D] held from absolute row `keyBase` on, of a
/// sequence whose rows `..< keyEnd` exist. Query `i` sees key `j` when `j < keyEnd` and,
/// with a band, `i - back <= j <= i + ahead`; the caller keeps every row a query can see.
///
/// Queries are processed in blocks of 64; with a band, each block only multiplies
/// against the keys it can see, so time and memory grow linearly with the length.
func attentionContext(
    queries q: Tensor, queryStart: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, keyBase: Int,
    keyEnd: Int, heads: Int, band: AttentionBand?
) -> [Float] {
    let count = q.shape[0], width = q.shape[1], headWidth = width / heads
    let scale = 1 / Float(headWidth).squareRoot()
    if count <= rowAttentionMaximumRows {
        return rowAttentionContext(
            queries: q, queryStart: queryStart, keys: keys, values: values, keyBase: keyBase, keyEnd: keyEnd,
            heads: heads, band: band, scale: scale)
    }
    let blockSize = 64
    let widest = band.map { min(keyEnd - keyBase, blockSize + $0.back + $0.ahead) } ?? (keyEnd - keyBase)
    var context = [Float](repeating: 0, count: count * width)
    var scores = [Float](repeating: 0, count: min(blockSize, count) * max(widest, 0))
    q.data.withUnsafeBufferPointer { qp in
        context.withUnsafeMutableBufferPointer { cp in
            scores.withUnsafeMutableBufferPointer { sp in
                var blockStart = 0
                while blockStart < count {
                    let blockEnd = min(blockStart + blockSize, count)
                    let rows = blockEnd - blockStart
                    let first = queryStart + blockStart, last = queryStart + blockEnd - 1
                    let keyStart = band.map { max(keyBase, first - $0.back) } ?? keyBase
                    let keyStop = band.map { min(keyEnd, last + $0.ahead + 1) } ?? keyEnd
                    let visible = keyStop - keyStart
                    for head in 0..<heads {
                        let column = head * headWidth
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: rows, n: visible, k: headWidth,
                            alpha: scale, a: qp.baseAddress! + blockStart * width + column, lda: width,
                            b: keys + (keyStart - keyBase) * width + column, ldb: width,
                            c: sp.baseAddress!, ldc: visible)
                        for r in 0..<rows {
                            let row = sp.baseAddress! + r * visible
                            guard let band else {
                                VectorMath.softmaxInPlace(row, count: visible)
                                continue
                            }
                            // The keys this query sees are one contiguous run of the block's
                            // columns: softmax over the run, zero on either side.
                            let query = first + r
                            let lower = min(max(query - band.back - keyStart, 0), visible)
                            let upper = max(min(query + band.ahead + 1 - keyStart, visible), lower)
                            row.update(repeating: 0, count: lower)
                            VectorMath.softmaxInPlace(row + lower, count: upper - lower)
                            (row + upper).update(repeating: 0, count: visible - upper)
                        }
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: rows, n: headWidth, k: visible,
                            a: sp.baseAddress!, lda: visible,
                            b: values + (keyStart - keyBase) * width + column, ldb: width,
                            c: cp.baseAddress! + blockStart * width + column, ldc: width)
                    }
                    blockStart = blockEnd
                }
            }
        }
    }
    return context
}

/// Query rows up to which `attentionContext` computes each row directly
/// (`rowAttentionContext`) instead of through blocked matrix products: a live stream's
/// one or few new rows, whose products are too small for a GEMM call to pay off.
let rowAttentionMaximumRows = 8

/// `attentionContext` for a few query rows through the kernel that computes one row and
/// head at a time (`kmtalk_attention_rows`): the scaled dot products with the keys the
/// row sees, the same softmax, and the weighted sum of the value rows. Equal to the
/// blocked path up to float rounding.
func rowAttentionContext(
    queries q: Tensor, queryStart: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, keyBase: Int,
    keyEnd: Int, heads: Int, band: AttentionBand?, scale: Float
) -> [Float] {
    let count = q.shape[0], width = q.shape[1]
    var context = [Float](repeating: 0, count: count * width)
    let widest = band.map { min(keyEnd - keyBase, $0.back + $0.ahead + 1) } ?? (keyEnd - keyBase)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: (max(widest, 1) + 7) / 8 * 8) { scores in
        q.data.withUnsafeBufferPointer { qp in
            context.withUnsafeMutableBufferPointer { cp in
                kmtalk_attention_rows(
                    Int32(count), Int32(width), Int32(heads), scale, qp.baseAddress!, queryStart, keys, values,
                    keyBase, keyEnd, band == nil ? 0 : 1, band?.back ?? 0, band?.ahead ?? 0, scores.baseAddress!,
                    cp.baseAddress!)
            }
        }
    }
    return context
}
