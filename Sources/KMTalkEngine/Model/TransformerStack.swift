/// Weights of one pre-norm transformer layer (tensor prefix `P`):
/// `x += MHA(LN(x; P.norm1), band)`, `x += fc2(act(fc1(LN(x; P.norm2))))`.
struct TransformerLayerWeights: Sendable {
    let norm1Weight: Tensor, norm1Bias: Tensor
    let attention: AttentionWeights
    let norm2Weight: Tensor, norm2Bias: Tensor
    /// The feed-forward layers, packed once here (`PackedLinear`).
    let fc1: PackedLinear, fc2: PackedLinear

    init(
        norm1Weight: Tensor, norm1Bias: Tensor, attention: AttentionWeights, norm2Weight: Tensor,
        norm2Bias: Tensor, fc1Weight: Tensor, fc1Bias: Tensor, fc2Weight: Tensor, fc2Bias: Tensor
    ) {
        self.norm1Weight = norm1Weight
        self.norm1Bias = norm1Bias
        self.attention = attention
        self.norm2Weight = norm2Weight
        self.norm2Bias = norm2Bias
        fc1 = PackedLinear(weight: fc1Weight, bias: fc1Bias)
        fc2 = PackedLinear(weight: fc2Weight, bias: fc2Bias)
    }
}

/// A stack of pre-norm transformer layers with band attention, shared by the audio
/// encoder (`encoder.layers.{i}`) and the completion network (`cmc.layers.{i}`).
struct TransformerStack: Sendable {
    let layers: [TransformerLayerWeights]
    let heads: Int
    let band: AttentionBand?
    let activation: Activation
    let epsilon: Float

    init(
        prefix: String, count: Int, width d: Int, feedForward f: Int, heads: Int, band: AttentionBand?,
        activation: Activation, epsilon: Float, weights: inout WeightStore
    ) throws {
        var layers: [TransformerLayerWeights] = []
        for i in 0..<count {
            let p = "\(prefix).\(i)."
            func pair(_ name: String, _ shape: [Int]) throws -> (Tensor, Tensor) {
                (try weights.require(p + name + ".weight", shape: shape), try weights.require(p + name + ".bias", shape: [shape[0]]))
            }
            let (n1w, n1b) = try pair("norm1", [d])
            let (qw, qb) = try pair("attn.q", [d, d])
            let (kw, kb) = try pair("attn.k", [d, d])
            let (vw, vb) = try pair("attn.v", [d, d])
            let (ow, ob) = try pair("attn.out", [d, d])
            let (n2w, n2b) = try pair("norm2", [d])
            let (f1w, f1b) = try pair("ffn.fc1", [f, d])
            let (f2w, f2b) = try pair("ffn.fc2", [d, f])
            layers.append(TransformerLayerWeights(
                norm1Weight: n1w, norm1Bias: n1b,
                attention: AttentionWeights(query: qw, queryBias: qb, key: kw, keyBias: kb, value: vw, valueBias: vb, output: ow, outputBias: ob),
                norm2Weight: n2w, norm2Bias: n2b, fc1Weight: f1w, fc1Bias: f1b, fc2Weight: f2w, fc2Bias: f2b))
        }
        self.layers = layers
        self.heads = heads
        self.band = band
        self.activation = activation
        self.epsilon = epsilon
    }

    /// Runs every layer over `x` [T, width]: the incremental layers given the whole
    /// sequence at once (full attention is a band as wide as the sequence).
    func callAsFunction(_ input: Tensor) -> Tensor {
        let length = input.shape[0]
        let stack = IncrementalTransformer(
            stack: self, band: band ?? AttentionBand(back: length, ahead: length), width: input.shape[1])
        return stack.push(input, ended: true)
    }

    /// The second half of a layer on rows `x` (input plus attention): `x + fc2(act(fc1(LN(x; norm2))))`.
    func feedForward(_ layer: TransformerLayerWeights, _ x: Tensor) -> Tensor {
        var hidden = layer.fc1(layerNorm(x, gamma: layer.norm2Weight, beta: layer.norm2Bias, epsilon: epsilon))
        activation.apply(&hidden.data)
        return add(x, layer.fc2(hidden))
    }
}
