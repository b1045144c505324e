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
    let layers: TransformerStack
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
        layers = try TransformerStack(
            prefix: "encoder.layers", count: config.layers, width: d, feedForward: f, heads: config.heads,
            band: config.band, activation: config.activation, epsilon: config.layerNormEpsilon, weights: &weights)
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
        x = layers(x)
        return layerNorm(x, gamma: normWeight, beta: normBias, epsilon: config.layerNormEpsilon)
    }
}
