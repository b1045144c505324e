/// The audio encoder: log-mel -> convolutional subsampling (each conv followed by the
/// activation) -> positions -> pre-norm transformer layers with a band attention mask
/// -> final layer norm. Tensor names: `encoder.conv.{i}.weight|bias`,
/// `encoder.positions` (learned only), `encoder.layers.{i}.norm1|norm2.weight|bias`,
/// `encoder.layers.{i}.attn.q|k|v|out.weight|bias`, `encoder.layers.{i}.ffn.fc1|fc2.weight|bias`,
/// `encoder.norm.weight|bias`.
struct AudioEncoder: Sendable {
    let config: EncoderConfig
    let convWeights: [(weight: Tensor, bias: Tensor)]
    /// Each conv weight flattened to [Cout, Cin*K] and packed once (`PackedLinear`).
    let convProjections: [PackedLinear]
    let positionTable: Tensor?
    /// The sinusoidal positions (computed once per model) when they are not learned.
    let sinusoid: SinusoidalPositions
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
        convProjections = convs.map { conv in
            PackedLinear(weight: conv.weight.reshaped([conv.weight.shape[0], conv.weight.shape[1] * conv.weight.shape[2]]), bias: conv.bias)
        }
        let d = config.width, f = config.feedForwardWidth
        positionTable = config.positions == .learned
            ? try weights.require("encoder.positions", shape: [config.maximumPositions, d]) : nil
        sinusoid = SinusoidalPositions(width: d)
        layers = try TransformerStack(
            prefix: "encoder.layers", count: config.layers, width: d, feedForward: f, heads: config.heads,
            band: config.band, activation: config.activation, epsilon: config.layerNormEpsilon, weights: &weights)
        normWeight = try weights.require("encoder.norm.weight", shape: [d])
        normBias = try weights.require("encoder.norm.bias", shape: [d])
    }

    /// Number of encoder frames for `featureFrames` log-mel frames.
    func outputLength(featureFrames: Int) -> Int {
        config.convolutions.indices.reduce(featureFrames) { outputLength(ofConvolution: $1, inputLength: $0) }
    }

    /// Encodes log-mel features [T, n_mels] into [T', width]. The caller guarantees
    /// T' >= 1 and, for learned positions, T' <= max_positions. The offline driver of the
    /// stages below; `StreamingNetwork` runs them on rows as they arrive.
    func callAsFunction(_ features: Tensor) -> Tensor {
        encode(features).encoded
    }

    /// The encoder output [T', width] and the conv stack's output before the positions
    /// [T', width] (the shallow path's input).
    func encode(_ features: Tensor) -> (encoded: Tensor, convolved: Tensor) {
        var x = features
        for index in config.convolutions.indices {
            // Output rows are independent: split over the call's threads (`WorkerThreads`).
            let input = x, length = outputLength(ofConvolution: index, inputLength: x.shape[0])
            x = WorkerThreads.rows(length, width: config.convolutions[index].channels, minimumPerPart: 256) {
                convolution(index, input, inputStart: 0, inputLength: input.shape[0], outputs: $0)
            }
        }
        return (normalized(layers(positioned(x, offset: 0))), x)
    }

    /// Output length of conv layer `index` for an input of `inputLength` rows.
    func outputLength(ofConvolution index: Int, inputLength: Int) -> Int {
        let conv = config.convolutions[index]
        return Conv1DGeometry(stride: conv.stride, padding: conv.kernel / 2).outputLength(inputLength: inputLength, kernel: conv.kernel)
    }

    /// Outputs `outputs` (absolute indices) of conv layer `index` followed by the
    /// activation, from its input rows `x` held from absolute row `inputStart` of an input
    /// `inputLength` rows long (see `conv1d(_:inputStart:...)`).
    func convolution(_ index: Int, _ x: Tensor, inputStart: Int, inputLength: Int, outputs: Range<Int>) -> Tensor {
        let conv = config.convolutions[index]
        var y = conv1d(
            x, inputStart: inputStart, inputLength: inputLength, kernel: conv.kernel, projection: convProjections[index],
            geometry: Conv1DGeometry(stride: conv.stride, padding: conv.kernel / 2), outputs: outputs)
        config.activation.apply(&y.data)
        return y
    }

    /// Encoder rows [n, width] at absolute frames `offset ..< offset + n` plus their
    /// positions (learned: the caller guarantees `offset + n <= max_positions`).
    func positioned(_ x: Tensor, offset: Int) -> Tensor {
        if let positionTable { return addPositions(x, table: positionTable, offset: offset) }
        return sinusoid.added(to: x, offset: offset)
    }

    /// The final layer norm of transformer output rows.
    func normalized(_ x: Tensor) -> Tensor {
        layerNorm(x, gamma: normWeight, beta: normBias, epsilon: config.layerNormEpsilon)
    }
}
