/// Which keys a query may attend to: key `j` is visible from query `i` when
/// `i - back <= j <= i + ahead`. `ahead` bounds the look-ahead, which is what lets the
/// same weights run in streaming with a fixed latency.
public struct AttentionBand: Sendable, Equatable {
    /// Frames visible before the query.
    public var back: Int
    /// Frames visible after the query (the look-ahead).
    public var ahead: Int

    public init(back: Int, ahead: Int) {
        self.back = back
        self.ahead = ahead
    }
}

/// Projection weights of one multi-head self-attention block (PyTorch layout, [out, in]).
public struct AttentionWeights: Sendable {
    public var query: Tensor, queryBias: Tensor
    public var key: Tensor, keyBias: Tensor
    public var value: Tensor, valueBias: Tensor
    public var output: Tensor, outputBias: Tensor

    public init(
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
    }
}

/// Multi-head scaled dot-product self-attention over `x` [T, D] with `heads` heads and
/// an optional band mask; returns [T, D].
///
/// Queries are processed in blocks; with a band, each block only multiplies against the
/// keys it can see, so time and memory grow linearly with T instead of quadratically.
public func multiHeadSelfAttention(
    _ x: Tensor, weights: AttentionWeights, heads: Int, band: AttentionBand? = nil
) -> Tensor {
    precondition(x.shape.count == 2, "attention: expects x [T, D]")
    let length = x.shape[0], width = x.shape[1]
    precondition(heads > 0 && width % heads == 0, "attention: width \(width) not divisible by \(heads) heads")
    let headWidth = width / heads
    let q = linear(x, weight: weights.query, bias: weights.queryBias)
    let k = linear(x, weight: weights.key, bias: weights.keyBias)
    let v = linear(x, weight: weights.value, bias: weights.valueBias)
    let scale = 1 / Float(headWidth).squareRoot()
    let blockSize = 64
    var context = [Float](repeating: 0, count: length * width)
    var scores = [Float](repeating: 0, count: blockSize * length)

    q.data.withUnsafeBufferPointer { qp in
        k.data.withUnsafeBufferPointer { kp in
            v.data.withUnsafeBufferPointer { vp in
                context.withUnsafeMutableBufferPointer { cp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        var blockStart = 0
                        while blockStart < length {
                            let blockEnd = min(blockStart + blockSize, length)
                            let rows = blockEnd - blockStart
                            let keyStart = band.map { max(0, blockStart - $0.back) } ?? 0
                            let keyEnd = band.map { min(length, blockEnd + $0.ahead) } ?? length
                            let keys = keyEnd - keyStart
                            for head in 0..<heads {
                                let column = head * headWidth
                                BLAS.sgemm(
                                    transposeA: false, transposeB: true, m: rows, n: keys, k: headWidth,
                                    alpha: scale, a: qp.baseAddress! + blockStart * width + column, lda: width,
                                    b: kp.baseAddress! + keyStart * width + column, ldb: width,
                                    c: sp.baseAddress!, ldc: keys)
                                for r in 0..<rows {
                                    let row = sp.baseAddress! + r * keys
                                    if let band {
                                        let query = blockStart + r
                                        let first = query - band.back, last = query + band.ahead
                                        for j in 0..<keys {
                                            let key = keyStart + j
                                            if key < first || key > last { row[j] = -.infinity }
                                        }
                                    }
                                    softmaxInPlace(row, count: keys)
                                }
                                BLAS.sgemm(
                                    transposeA: false, transposeB: false, m: rows, n: headWidth, k: keys,
                                    a: sp.baseAddress!, lda: keys,
                                    b: vp.baseAddress! + keyStart * width + column, ldb: width,
                                    c: cp.baseAddress! + blockStart * width + column, ldc: width)
                            }
                            blockStart = blockEnd
                        }
                    }
                }
            }
        }
    }
    return linear(Tensor(shape: [length, width], data: context), weight: weights.output, bias: weights.outputBias)
}
