/// Weights of one pre-norm transformer layer.
struct TransformerLayerWeights: Sendable {
    var norm1Weight: Tensor, norm1Bias: Tensor
    var attention: AttentionWeights
    var norm2Weight: Tensor, norm2Bias: Tensor
    var fc1Weight: Tensor, fc1Bias: Tensor
    var fc2Weight: Tensor, fc2Bias: Tensor
}

/// The audio encoder: log-mel -> convolutional subsampling (each conv followed by the
/// activation) -> positions -> pre-norm transformer layers with a band attention mask
/// -> final layer norm. Tensor names: `encoder.conv.{i}.weight|bias`,
/// `encoder.positions` (learned only), `encoder.layers.{i}.norm1|norm2.weight|bias`,
/// `encoder.layers.{i}.attn.q|k|v|out.weight|bias`, `encoder.layers.{i}.ffn.fc1|fc2.weight|bias`,
/// `encoder.norm.weight|bias`.
struct AudioEncoder: Sendable {
    let config: EncoderConfig
    let convWeights: [(weight: Tensor, bias: Tensor)]
    let positionTable: Tensor?
    let layers: [TransformerLayerWeights]
    let normWeight: Tensor, normBias: Tensor

    init(config: EncoderConfig, inputChannels: Int, weights: inout WeightStore) throws {
        self.config = config
        var convs: [(weight: Tensor, bias: Tensor)] = []
        var channels = inputChannels
        for (i, conv) in config.convolutions.enumerated() {
            convs.append((
                try weights.require("encoder.conv.\(i).weight", shape: [conv.channels, channels, conv.kernel]),
                try weights.require("encoder.conv.\(i).bias", shape: [conv.channels])))
            channels = conv.channels
        }
        convWeights = convs
        let d = config.width, f = config.feedForwardWidth
        positionTable = config.positions == "learned"
            ? try weights.require("encoder.positions", shape: [config.maximumPositions, d]) : nil
        var layers: [TransformerLayerWeights] = []
        for i in 0..<config.layers {
            let p = "encoder.layers.\(i)."
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
        normWeight = try weights.require("encoder.norm.weight", shape: [d])
        normBias = try weights.require("encoder.norm.bias", shape: [d])
    }

    /// Number of encoder frames for `featureFrames` log-mel frames.
    func outputLength(featureFrames: Int) -> Int {
        var length = featureFrames
        for conv in config.convolutions {
            length = Conv1DGeometry(stride: conv.stride, padding: conv.kernel / 2).outputLength(inputLength: length, kernel: conv.kernel)
        }
        return length
    }

    /// Encodes log-mel features [T, n_mels] into [T', width]. The caller guarantees
    /// T' >= 1 and, for learned positions, T' <= max_positions.
    func callAsFunction(_ features: Tensor) -> Tensor {
        var x = features
        for (conv, weights) in zip(config.convolutions, convWeights) {
            x = conv1d(x, weight: weights.weight, bias: weights.bias,
                       geometry: Conv1DGeometry(stride: conv.stride, padding: conv.kernel / 2))
            config.activation.apply(&x.data)
        }
        let length = x.shape[0]
        x = addPositions(x, table: positionTable ?? sinusoidalPositions(length: length, width: config.width))
        for layer in layers {
            let normed = layerNorm(x, gamma: layer.norm1Weight, beta: layer.norm1Bias, epsilon: config.layerNormEpsilon)
            x = add(x, multiHeadSelfAttention(normed, weights: layer.attention, heads: config.heads, band: config.band))
            var hidden = linear(
                layerNorm(x, gamma: layer.norm2Weight, beta: layer.norm2Bias, epsilon: config.layerNormEpsilon),
                weight: layer.fc1Weight, bias: layer.fc1Bias)
            config.activation.apply(&hidden.data)
            x = add(x, linear(hidden, weight: layer.fc2Weight, bias: layer.fc2Bias))
        }
        return layerNorm(x, gamma: normWeight, beta: normBias, epsilon: config.layerNormEpsilon)
    }
}
