/// Everything the network computed for one input, for callers that want more than the
/// motion (evaluation, parity tests, mouth cues).
public struct NetworkOutput: Sendable {
    /// Encoder output [T, d].
    public var encoded: Tensor
    /// Phone posteriors [T, P] and feature probabilities [T, F] (nil without LKMA).
    public var phonePosteriors: Tensor?
    public var featureProbabilities: Tensor?
    /// Boundary scores [T] and key frames (empty without LKMA).
    public var boundaryScores: [Float]
    public var keyFrames: [Int]
    /// Key poses [keys, M] (nil without LKMA).
    public var keyPoses: Tensor?
    /// Motion at the native frame rate [T, M].
    public var motion: Tensor
    /// Wall time of each network stage in seconds, in order: "encoder", then "lkma" and
    /// "cmc" (`kmtalk`) or "head" (`kmtalk-direct`).
    public var stageSeconds: [(stage: String, seconds: Double)] = []
}

/// LKMA + CMC of the `kmtalk` architecture (docs/model.md), on top of the audio encoder.
struct KMTalkNetwork: Sendable {
    let cmcConfig: CMCConfig
    let lkmaConfig: LKMAConfig?
    let motionActivation: Activation
    let activation: Activation
    let epsilon: Float
    // LKMA
    let phoneHead: (weight: Tensor, bias: Tensor)?
    let featureHead: (weight: Tensor, bias: Tensor)?
    let locator: KeyFrameLocator?
    let phoneEmbedding: Tensor?
    let keyFC1: (weight: Tensor, bias: Tensor)?
    let keyFC2: (weight: Tensor, bias: Tensor)?
    let keyProjection: (weight: Tensor, bias: Tensor)?
    // CMC
    let audioProjection: (weight: Tensor, bias: Tensor)
    let maskToken: Tensor
    let layers: TransformerStack
    let norm: (weight: Tensor, bias: Tensor)
    let head: (weight: Tensor, bias: Tensor)

    init(config: ModelConfig, weights: inout WeightStore) throws {
        guard let cmc = config.cmc else { throw KMTError.corruptModel("architecture 'kmtalk' needs config.cmc") }
        let d = config.encoder.width, c = cmc.width, m = config.motion.channels.count
        func pair(_ name: String, _ shape: [Int]) throws -> (weight: Tensor, bias: Tensor) {
            (try weights.require(name + ".weight", shape: shape), try weights.require(name + ".bias", shape: [shape[0]]))
        }
        cmcConfig = cmc
        lkmaConfig = config.lkma
        motionActivation = config.motion.activation
        activation = config.encoder.activation
        epsilon = config.encoder.layerNormEpsilon
        if cmc.useKeys {
            guard let lkma = config.lkma else { throw KMTError.corruptModel("cmc.use_keys needs config.lkma") }
            let p = lkma.phones.count, f = lkma.features.count, e = lkma.embeddingWidth, h = lkma.hiddenWidth
            phoneHead = try pair("phone_head", [p, d])
            featureHead = try pair("feature_head", [f, d])
            locator = KeyFrameLocator(threshold: lkma.keyThreshold, minimumGap: lkma.minimumGap, maximumGap: lkma.maximumGap)
            phoneEmbedding = try weights.require("key_decoder.phone_embedding", shape: [p, e])
            keyFC1 = try pair("key_decoder.fc1", [h, d + 2 * e])
            keyFC2 = try pair("key_decoder.fc2", [m, h])
            keyProjection = try pair("cmc.key_proj", [c, m])
        } else {
            phoneHead = nil
            featureHead = nil
            locator = nil
            phoneEmbedding = nil
            keyFC1 = nil
            keyFC2 = nil
            keyProjection = nil
        }
        audioProjection = try pair("cmc.audio_proj", [c, d])
        maskToken = try weights.require("cmc.mask_token", shape: [c])
        layers = try TransformerStack(
            prefix: "cmc.layers", count: cmc.layers, width: c, feedForward: cmc.feedForwardWidth, heads: cmc.heads,
            band: cmc.band, activation: config.encoder.activation, epsilon: epsilon, weights: &weights)
        norm = try pair("cmc.norm", [c])
        head = try pair("cmc.head", [m, c])
    }

    /// LKMA then CMC on encoder output `encoded` [T, d].
    func callAsFunction(_ encoded: Tensor) -> NetworkOutput {
        var clock = StageClock()
        let frames = encoded.shape[0], c = cmcConfig.width
        var output = NetworkOutput(
            encoded: encoded, phonePosteriors: nil, featureProbabilities: nil, boundaryScores: [], keyFrames: [],
            keyPoses: nil, motion: Tensor(zeros: [0, 0]))
        // Per-frame conditioning token: mask token everywhere, key-pose projection at key frames.
        var tokens = [Float](repeating: 0, count: frames * c)
        for t in 0..<frames { for j in 0..<c { tokens[t * c + j] = maskToken.data[j] } }

        if let phoneHead, let featureHead, let locator, let phoneEmbedding, let keyFC1, let keyFC2, let keyProjection {
            let posteriors = softmax(linear(encoded, weight: phoneHead.weight, bias: phoneHead.bias))
            output.phonePosteriors = posteriors
            output.featureProbabilities = sigmoid(linear(encoded, weight: featureHead.weight, bias: featureHead.bias))
            let scores = locator.boundaryScores(posteriors)
            let keys = locator.keyFrames(scores)
            output.boundaryScores = scores
            output.keyFrames = keys
            // Key-motion decoder input rows: [H[k], post[k-] E, post[k+] E].
            let d = encoded.shape[1], e = phoneEmbedding.shape[1], p = posteriors.shape[1]
            func rows(_ indices: [Int], of tensor: Tensor) -> Tensor {
                let width = tensor.shape[1]
                var data = [Float](repeating: 0, count: indices.count * width)
                for (r, i) in indices.enumerated() {
                    for j in 0..<width { data[r * width + j] = tensor.data[i * width + j] }
                }
                return Tensor(shape: [indices.count, width], data: data)
            }
            let embeddingT = Tensor(shape: [p, e], data: phoneEmbedding.data)
            let left = matmul(rows(keys.map { max($0 - 1, 0) }, of: posteriors), embeddingT)
            let right = matmul(rows(keys.map { min($0 + 1, frames - 1) }, of: posteriors), embeddingT)
            let centre = rows(keys, of: encoded)
            var input = [Float](repeating: 0, count: keys.count * (d + 2 * e))
            for r in 0..<keys.count {
                let base = r * (d + 2 * e)
                for j in 0..<d { input[base + j] = centre.data[r * d + j] }
                for j in 0..<e {
                    input[base + d + j] = left.data[r * e + j]
                    input[base + d + e + j] = right.data[r * e + j]
                }
            }
            var hidden = linear(Tensor(shape: [keys.count, d + 2 * e], data: input), weight: keyFC1.weight, bias: keyFC1.bias)
            activation.apply(&hidden.data)
            var poses = linear(hidden, weight: keyFC2.weight, bias: keyFC2.bias)
            motionActivation.apply(&poses.data)
            output.keyPoses = poses
            let projected = linear(poses, weight: keyProjection.weight, bias: keyProjection.bias)
            for (r, k) in keys.enumerated() {
                for j in 0..<c { tokens[k * c + j] = projected.data[r * c + j] }
            }
            clock.mark("lkma")
        }

        var u = linear(encoded, weight: audioProjection.weight, bias: audioProjection.bias)
        u = add(u, Tensor(shape: [frames, c], data: tokens))
        u = addPositions(u, table: sinusoidalPositions(length: frames, width: c))
        u = layerNorm(layers(u), gamma: norm.weight, beta: norm.bias, epsilon: epsilon)
        var motion = linear(u, weight: head.weight, bias: head.bias)
        motionActivation.apply(&motion.data)
        output.motion = motion
        clock.mark("cmc")
        output.stageSeconds = clock.stages
        return output
    }
}
