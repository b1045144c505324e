/// Everything the network computed for one input, for callers that want more than the
/// motion (evaluation, parity tests, mouth cues).
struct NetworkOutput: Sendable {
    /// Encoder output [T, d].
    var encoded: Tensor
    /// Phone posteriors [T, P] and feature probabilities [T, F] (nil without LKMA).
    var phonePosteriors: Tensor?
    var featureProbabilities: Tensor?
    /// Boundary scores [T] and key frames (empty without LKMA).
    var boundaryScores: [Float]
    var keyFrames: [Int]
    /// Key poses [keys, M] (nil without LKMA).
    var keyPoses: Tensor?
    /// Motion at the native frame rate [T, M].
    var motion: Tensor
    /// The loudness path's input per native frame (empty for a model without one).
    var loudness: [Float] = []
    /// Wall time of each network stage in seconds, in order: "encoder", then "lkma" and
    /// "cmc" (`kmtalk`) or "head" (`kmtalk-direct`).
    var stageSeconds: [(stage: String, seconds: Double)] = []
}

/// LKMA + CMC of the `kmtalk` architecture (docs/model.md), on top of the audio encoder.
struct KMTalkNetwork: Sendable {
    let cmcConfig: CMCConfig
    let lkmaConfig: LKMAConfig?
    let motionActivation: Activation
    let activation: Activation
    let epsilon: Float
    // LKMA
    let phoneHead: PackedLinear?
    let featureHead: PackedLinear?
    let locator: KeyFrameLocator?
    let phoneEmbedding: Tensor?
    let keyFC1: PackedLinear?
    let keyFC2: PackedLinear?
    let keyProjection: PackedLinear?
    // CMC
    let audioProjection: PackedLinear
    let maskToken: Tensor
    /// The CMC transformer's sinusoidal positions (computed once per model).
    let cmcPositions: SinusoidalPositions
    let layers: TransformerStack
    let norm: (weight: Tensor, bias: Tensor)
    let head: PackedLinear
    /// The shallow path's weight [M, d] (`cmc.shallow.weight`), nil without it.
    let shallow: Tensor?
    /// The loudness path: its settings and weights `cmc.loudness_proj.weight` [c, 1] and
    /// `cmc.loudness_head.weight` [M, 1]; nil without it.
    let loudness: (settings: LoudnessConfig, projection: Tensor, head: Tensor)?
    /// The encoder's total conv stride (mel frames per native frame).
    let stride: Int

    init(config: ModelConfig, weights: inout WeightStore) throws {
        guard let cmc = config.cmc else { throw KMTError.corruptModel("architecture 'kmtalk' needs config.cmc") }
        let d = config.encoder.width, c = cmc.width, m = config.motion.channels.count
        func pair(_ name: String, _ shape: [Int]) throws -> (weight: Tensor, bias: Tensor) {
            (try weights.require(name + ".weight", shape: shape), try weights.require(name + ".bias", shape: [shape[0]]))
        }
        func packed(_ name: String, _ shape: [Int]) throws -> PackedLinear {
            let (weight, bias) = try pair(name, shape)
            return PackedLinear(weight: weight, bias: bias)
        }
        cmcConfig = cmc
        lkmaConfig = config.lkma
        motionActivation = config.motion.activation
        activation = config.encoder.activation
        epsilon = config.encoder.layerNormEpsilon
        if cmc.useKeys {
            guard let lkma = config.lkma else { throw KMTError.corruptModel("cmc.use_keys needs config.lkma") }
            let p = lkma.phones.count, f = lkma.features.count, e = lkma.embeddingWidth, h = lkma.hiddenWidth
            phoneHead = try packed("phone_head", [p, d])
            featureHead = try packed("feature_head", [f, d])
            locator = KeyFrameLocator(threshold: lkma.keyThreshold, minimumGap: lkma.minimumGap, maximumGap: lkma.maximumGap)
            phoneEmbedding = try weights.require("key_decoder.phone_embedding", shape: [p, e])
            keyFC1 = try packed("key_decoder.fc1", [h, d + 2 * e])
            keyFC2 = try packed("key_decoder.fc2", [m, h])
            keyProjection = try packed("cmc.key_proj", [c, m])
        } else {
            phoneHead = nil
            featureHead = nil
            locator = nil
            phoneEmbedding = nil
            keyFC1 = nil
            keyFC2 = nil
            keyProjection = nil
        }
        audioProjection = try packed("cmc.audio_proj", [c, d])
        maskToken = try weights.require("cmc.mask_token", shape: [c])
        cmcPositions = SinusoidalPositions(width: c)
        layers = try TransformerStack(
            prefix: "cmc.layers", count: cmc.layers, width: c, feedForward: cmc.feedForwardWidth, heads: cmc.heads,
            band: cmc.band, activation: config.encoder.activation, epsilon: epsilon, weights: &weights)
        norm = try pair("cmc.norm", [c])
        head = try packed("cmc.head", [m, c])
        shallow = cmc.shallow ? try weights.require("cmc.shallow.weight", shape: [m, d]) : nil
        if let settings = cmc.loudness {
            loudness = (settings, try weights.require("cmc.loudness_proj.weight", shape: [c, 1]),
                        try weights.require("cmc.loudness_head.weight", shape: [m, 1]))
        } else {
            loudness = nil
        }
        stride = config.encoder.totalStride
    }

    /// A tracker of the loudness path's input (nil for a model without one).
    func makeLoudnessTracker() -> LoudnessTracker? {
        loudness.map { LoudnessTracker(settings: $0.settings, stride: stride) }
    }

    /// LKMA then CMC on encoder output `encoded` [T, d] (and the conv features [T, d] the
    /// shallow path reads, and the log-mel `features` the loudness path reads): the offline
    /// driver of the stages below (the streaming driver, `StreamingNetwork`, runs the same
    /// stages on rows as they arrive).
    func callAsFunction(_ encoded: Tensor, convolved: Tensor, features: Tensor) -> NetworkOutput {
        var clock = StageClock()
        let frames = encoded.shape[0]
        var output = NetworkOutput(
            encoded: encoded, phonePosteriors: nil, featureProbabilities: nil, boundaryScores: [], keyFrames: [],
            keyPoses: nil, motion: Tensor(zeros: [0, 0]))
        var keyTokens: [Int: Int] = [:]
        var projected = Tensor(zeros: [0, cmcConfig.width])
        if let featureHead, let locator {
            let posteriors = phonePosteriors(encoded)
            output.phonePosteriors = posteriors
            output.featureProbabilities = sigmoid(featureHead(encoded))
            let scores = locator.boundaryScores(posteriors)
            let keys = locator.keyFrames(scores)
            output.boundaryScores = scores
            output.keyFrames = keys
            let decoded = keyPoses(keys: keys, encoded: encoded, posteriors: posteriors, rowBase: 0, lastFrame: frames - 1)
            output.keyPoses = decoded.poses
            projected = decoded.tokens
            for (r, k) in keys.enumerated() { keyTokens[k] = r }
            clock.mark("lkma")
        }
        if var tracker = makeLoudnessTracker() {
            tracker.push(features)
            output.loudness = tracker.advance(ended: true, frames: frames)
        }
        let input = completionInput(encoded, offset: 0, loudness: output.loudness) { t in keyTokens[t].map { r in projected.data[(r * projected.shape[1])...].prefix(projected.shape[1]) } }
        output.motion = completionOutput(layers(input), convolved: convolved, loudness: output.loudness)
        clock.mark("cmc")
        output.stageSeconds = clock.stages
        return output
    }

    /// Phone posteriors [n, P] of encoder rows [n, d].
    func phonePosteriors(_ encoded: Tensor) -> Tensor {
        guard let phoneHead else { return Tensor(zeros: [encoded.shape[0], 0]) }
        return softmax(phoneHead(encoded))
    }

    /// The key-motion decoder: key poses [keys, M] and their CMC tokens [keys, c] for the
    /// key frames `keys` (absolute indices), from encoder rows and phone posterior rows held
    /// from absolute row `rowBase` on. The decoder input of key frame k is
    /// `[H[k], post[k-1] E, post[k+1] E]`, the neighbours clamped to `0...lastFrame`.
    func keyPoses(keys: [Int], encoded: Tensor, posteriors: Tensor, rowBase: Int, lastFrame: Int) -> (poses: Tensor, tokens: Tensor) {
        guard let phoneEmbedding, let keyFC1, let keyFC2, let keyProjection else {
            return (Tensor(zeros: [0, 0]), Tensor(zeros: [0, cmcConfig.width]))
        }
        let d = encoded.shape[1], e = phoneEmbedding.shape[1], p = posteriors.shape[1]
        let embedding = Tensor(shape: [p, e], data: phoneEmbedding.data)
        let left = matmul(rows(posteriors, keys.map { max($0 - 1, 0) - rowBase }), embedding)
        let right = matmul(rows(posteriors, keys.map { min($0 + 1, lastFrame) - rowBase }), embedding)
        let centre = rows(encoded, keys.map { $0 - rowBase })
        var input = [Float](repeating: 0, count: keys.count * (d + 2 * e))
        for r in 0..<keys.count {
            let base = r * (d + 2 * e)
            for j in 0..<d { input[base + j] = centre.data[r * d + j] }
            for j in 0..<e {
                input[base + d + j] = left.data[r * e + j]
                input[base + d + e + j] = right.data[r * e + j]
            }
        }
        var hidden = keyFC1(Tensor(shape: [keys.count, d + 2 * e], data: input))
        activation.apply(&hidden.data)
        var poses = keyFC2(hidden)
        motionActivation.apply(&poses.data)
        return (poses, keyProjection(poses))
    }

    /// CMC input rows for encoder rows `encoded` [n, d] at absolute frames
    /// `offset ..< offset + n`: the audio projection plus each frame's conditioning token
    /// (its key pose's projection at a key frame, `token(t)`, else the mask token) plus the
    /// loudness path's projection of `loudness` (the same n frames; ignored without the
    /// path) plus the sinusoidal positions.
    func completionInput<Token: Collection<Float>, Loudness: Collection<Float>>(
        _ encoded: Tensor, offset: Int, loudness values: Loudness, token: (Int) -> Token?
    ) -> Tensor {
        let n = encoded.shape[0], c = cmcConfig.width
        var u = audioProjection(encoded)
        u.data.withUnsafeMutableBufferPointer { out in
            for r in 0..<n {
                if let key = token(offset + r) {
                    for (j, value) in key.enumerated() { out[r * c + j] += value }
                } else {
                    for j in 0..<c { out[r * c + j] += maskToken.data[j] }
                }
            }
            if let loudness {
                for (r, f) in values.prefix(n).enumerated() {
                    for j in 0..<c { out[r * c + j] += f * loudness.projection.data[j] }
                }
            }
        }
        return cmcPositions.added(to: u, offset: offset)
    }

    /// Motion rows [n, M] from CMC transformer output rows [n, c] and the conv features and
    /// loudness of the same frames ([n, d] and n values): final norm, head, plus the
    /// shallow and loudness paths, activation.
    func completionOutput<Loudness: Collection<Float>>(_ rows: Tensor, convolved: Tensor, loudness values: Loudness) -> Tensor {
        var motion = head(layerNorm(rows, gamma: norm.weight, beta: norm.bias, epsilon: epsilon))
        if let shallow {
            let direct = linear(convolved, weight: shallow)
            for i in motion.data.indices { motion.data[i] += direct.data[i] }
        }
        if let loudness {
            let m = motion.shape[1]
            motion.data.withUnsafeMutableBufferPointer { out in
                for (r, f) in values.prefix(rows.shape[0]).enumerated() {
                    for j in 0..<m { out[r * m + j] += f * loudness.head.data[j] }
                }
            }
        }
        motionActivation.apply(&motion.data)
        return motion
    }
}
