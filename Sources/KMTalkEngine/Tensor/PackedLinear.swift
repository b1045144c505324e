import CKMTalkKernels

/// A fully connected layer (`y = x W^T + b`, PyTorch's [out, in] weight) whose weight is
/// packed once, at load time, into the column panels `kmtalk_sgemm_packed` reads, so no
/// product packs anything at call time. Streaming multiplies a few to a few hundred rows
/// per call, where OpenBLAS spent a third of its time packing; on larger products the
/// packed kernel also runs at or above OpenBLAS's speed, and each row's result is the same
/// whatever other rows share the call (a session pushed alone or in a batch of many).
struct PackedLinear: Sendable {
    /// Output features (rows of the PyTorch weight).
    let outFeatures: Int
    /// Input features (columns of the PyTorch weight).
    let inFeatures: Int
    /// The weight in `kmtalk_pack_weight`'s panel layout.
    private let panels: [Float]
    /// The bias, or nil.
    private let bias: [Float]?

    /// Packs `weight` [out, in] and keeps `bias` [out] (both already validated by the loader).
    init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 2, "PackedLinear: weight must be 2-D, got \(weight.shape)")
        let (n, k) = (weight.shape[0], weight.shape[1])
        precondition(bias == nil || bias!.count == n, "PackedLinear: bias size \(bias!.count) != \(n)")
        outFeatures = n
        inFeatures = k
        var packed = [Float](repeating: 0, count: Int(kmtalk_packed_weight_count(Int32(n), Int32(k))))
        if !packed.isEmpty {
            weight.data.withUnsafeBufferPointer { w in
                packed.withUnsafeMutableBufferPointer { p in
                    kmtalk_pack_weight(Int32(n), Int32(k), w.baseAddress!, Int32(k), p.baseAddress!)
                }
            }
        }
        panels = packed
        self.bias = bias?.data
    }

    /// `x W^T + b` over the last dimension of `x`; leading dimensions are kept.
    func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.lastDimension == inFeatures, "linear: input has \(x.lastDimension) features, weight expects \(inFeatures)")
        let rows = x.rows
        var output = [Float](repeating: 0, count: rows * outFeatures)
        x.data.withUnsafeBufferPointer { a in
            output.withUnsafeMutableBufferPointer { c in
                apply(rows: rows, input: a.baseAddress!, inputStride: inFeatures, output: c.baseAddress!, outputStride: outFeatures)
            }
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], data: output)
    }

    /// Writes `rows` results to `output` (row stride `outputStride`) from `rows` inputs at
    /// `input` (row stride `inputStride`).
    func apply(
        rows: Int, input: UnsafePointer<Float>, inputStride: Int,
        output: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        guard rows > 0, outFeatures > 0 else { return }
        panels.withUnsafeBufferPointer { p in
            let packed = p.baseAddress ?? UnsafePointer(bitPattern: 16)!
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    kmtalk_sgemm_packed(
                        Int32(rows), Int32(outFeatures), Int32(inFeatures), input, Int32(inputStride),
                        packed, b.baseAddress!, output, Int32(outputStride))
                }
            } else {
                kmtalk_sgemm_packed(
                    Int32(rows), Int32(outFeatures), Int32(inFeatures), input, Int32(inputStride),
                    packed, nil, output, Int32(outputStride))
            }
        }
    }
}
