import CKMTalk

/// The network run on a growing model-rate signal, emitting each native motion frame once
/// it is final: equal (up to float rounding) to what the offline path computes for the
/// whole utterance.
///
/// Every stage is local in time (convolutions, band attention, the locator's one frame of
/// look-ahead), so a frame depends only on a bounded window of the signal. Each step
/// recomputes the stages over the window the new frames need (its left margin covers the
/// band look-back of every transformer layer, so no row is computed from a truncated past)
/// with absolute positions; the sequential key-frame scan keeps its state (`last`, the
/// decided prefix, the tokens of recent key frames). Samples and key tokens older than
/// the next window are dropped, so memory does not grow with the stream's duration.
final class StreamingNetwork {
    let model: KMTalkModel
    let encoderBand: AttentionBand
    let encoderLayers: Int
    /// LKMA + CMC (nil for `kmtalk-direct`).
    let network: KMTalkNetwork?
    let keyed: Bool
    let cmcBand: AttentionBand
    let cmcLayers: Int

    /// Model-rate samples from absolute index `sampleBase` on.
    private(set) var samples: [Float] = []
    private(set) var sampleBase = 0
    /// Model-rate samples received in this utterance.
    private(set) var sampleCount = 0
    /// Native frames emitted so far.
    private(set) var emitted = 0
    /// Frames whose key-frame decision is made.
    private var decided = 0
    private var lastKey = 0
    /// Projected key-pose tokens of the key frames the next window can still use.
    private(set) var keyTokens: [Int: [Float]] = [:]

    /// Throws KMT_ERR_INCOMPATIBLE_MODEL for a model with full (unbanded) attention.
    init(model: KMTalkModel) throws {
        self.model = model
        guard let band = model.config.encoder.band else {
            throw KMTError(
                KMT_ERR_INCOMPATIBLE_MODEL,
                "\(model.source): the encoder uses full attention (encoder.band_back is null): every frame depends on the whole utterance, so this model cannot stream; use kmt_animate_pcm")
        }
        encoderBand = band
        encoderLayers = model.encoder.layers.layers.count
        switch model.network {
        case .direct:
            network = nil
            keyed = false
            cmcBand = AttentionBand(back: 0, ahead: 0)
            cmcLayers = 0
        case let .kmtalk(net):
            network = net
            keyed = net.locator != nil
            cmcBand = net.cmcConfig.band
            cmcLayers = net.layers.layers.count
        }
    }

    /// Forgets the utterance (same model and settings).
    func reset() {
        samples = []
        sampleBase = 0
        sampleCount = 0
        emitted = 0
        decided = 0
        lastKey = 0
        keyTokens = [:]
    }

    /// Appends model-rate samples.
    func append(_ block: [Float]) {
        samples.append(contentsOf: block)
        sampleCount += block.count
    }

    // MARK: - Geometry

    private var hop: Int { model.config.frontend.hopLength }
    private var half: Int { model.config.frontend.fftSize / 2 }
    private var convolutions: [ConvLayerConfig] { model.config.encoder.convolutions }

    /// Lengths of the mel sequence and of each conv layer's output that are final with
    /// `count` samples (all of them when the stream has `ended`).
    func lengths(samples count: Int, ended: Bool) -> [Int] {
        var length = ended ? 1 + count / hop : (count >= half ? (count - half) / hop + 1 : 0)
        var result = [length]
        for conv in convolutions {
            let padding = conv.kernel / 2
            if ended {
                length = Conv1DGeometry(stride: conv.stride, padding: padding).outputLength(inputLength: length, kernel: conv.kernel)
            } else {
                let reach = length - conv.kernel + padding
                length = reach >= 0 ? reach / conv.stride + 1 : 0
            }
            result.append(length)
        }
        return result
    }

    /// Final counts of encoder rows, decided frames and motion frames for `lengths`.
    private func counts(_ lengths: [Int], ended: Bool) -> (encoded: Int, decided: Int, motion: Int) {
        let c = lengths.last!
        if ended { return (c, c, c) }
        let h = max(0, c - encoderLayers * encoderBand.ahead)
        guard network != nil else { return (h, h, h) }
        let d = keyed ? max(0, h - 1) : h
        return (h, d, max(0, d - cmcLayers * cmcBand.ahead))
    }

    /// First encoder (H) row a step starting at `emitted` / `decided` needs.
    private func firstEncodedRow(emitted: Int, decided: Int) -> (h: Int, u: Int) {
        guard network != nil else { return (emitted, emitted) }
        let u = max(0, emitted - cmcLayers * cmcBand.back)
        return (keyed ? max(0, min(u, decided - 2)) : u, u)
    }

    /// Input range of a conv layer for outputs `range`, clipped to the input's `length`.
    private func convInput(_ range: Range<Int>, conv: ConvLayerConfig, length: Int) -> Range<Int> {
        let padding = conv.kernel / 2
        let start = max(0, range.lowerBound * conv.stride - padding)
        let end = min(length, (range.upperBound - 1) * conv.stride - padding + conv.kernel)
        return start..<max(start, end)
    }

    /// The first sample the next step can need; everything before it is dropped.
    private func firstNeededSample() -> Int {
        let h = firstEncodedRow(emitted: emitted, decided: decided).h
        var start = max(0, h - encoderLayers * encoderBand.back)
        for conv in convolutions.reversed() { start = max(0, start * conv.stride - conv.kernel / 2) }
        return max(0, start * hop - half)
    }

    /// Algorithmic latency in model-rate samples: how far past a native frame's time the
    /// signal must reach before the frame is final.
    var latencySamples: Int {
        let t = 1_000
        var index = t + (network != nil ? cmcLayers * cmcBand.ahead + (keyed ? 1 : 0) : 0) + encoderLayers * encoderBand.ahead
        for conv in convolutions.reversed() { index = index * conv.stride - conv.kernel / 2 + conv.kernel - 1 }
        let stride = model.config.encoder.totalStride
        return index * hop + half - t * stride * hop
    }

    // MARK: - Steps

    /// Computes the native frames that became final ([new frames, channels]), or nil.
    /// With `ended`, the signal is complete and every remaining frame is returned.
    func advance(ended: Bool) throws -> Tensor? {
        let lengths = lengths(samples: sampleCount, ended: ended)
        if ended, lengths.last! < 1 {
            return try shortUtterance()
        }
        let (encodedCount, decidedCount, motionCount) = counts(lengths, ended: ended)
        guard motionCount > emitted else { return nil }
        let total = lengths.last!
        let (hStart, uStart) = firstEncodedRow(emitted: emitted, decided: decided)
        let hEnd = ended ? total : (network == nil ? motionCount : (keyed ? decidedCount + 1 : decidedCount))
        precondition(hEnd <= encodedCount || ended, "streaming: window past the final rows")
        let cStart = max(0, hStart - encoderLayers * encoderBand.back)
        let cEnd = ended ? total : min(total, hEnd + encoderLayers * encoderBand.ahead)

        // Conv ranges, last layer first.
        var ranges = [cStart..<cEnd]
        for (index, conv) in convolutions.enumerated().reversed() {
            ranges.insert(convInput(ranges[0], conv: conv, length: lengths[index]), at: 0)
        }
        let melRange = ranges[0]
        let firstSample = max(0, melRange.lowerBound * hop - half)
        guard firstSample >= sampleBase else {
            throw KMTError(KMT_ERR_INTERNAL, "streaming: sample \(firstSample) was already dropped (kept from \(sampleBase))")
        }
        var x = samples.withUnsafeBufferPointer {
            model.frontend.frames(melRange, signal: $0, signalStart: sampleBase)
        }
        let encoder = model.encoder
        for (index, conv) in convolutions.enumerated() {
            x = convolve(
                x, inputStart: ranges[index].lowerBound, inputLength: lengths[index], weights: encoder.convWeights[index],
                conv: conv, outputs: ranges[index + 1])
            model.config.encoder.activation.apply(&x.data)
        }
        if let table = encoder.positionTable {
            guard cEnd <= table.shape[0] else {
                throw KMTError.invalidAudio("stream too long for this model: the learned positions cover \(table.shape[0]) frames")
            }
            x = addPositions(x, table: table, offset: cStart)
        } else {
            x = addPositions(x, table: sinusoidalPositions(length: x.shape[0], width: model.config.encoder.width, offset: cStart))
        }
        let encoded = layerNorm(encoder.layers(x), gamma: encoder.normWeight, beta: encoder.normBias, epsilon: model.config.encoder.layerNormEpsilon)
        let hRows = rows(encoded, hStart - cStart..<hEnd - cStart)

        let motion: Tensor
        switch model.network {
        case let .direct(weight, bias):
            var m = linear(hRows, weight: weight, bias: bias)
            model.config.motion.activation.apply(&m.data)
            motion = rows(m, emitted - hStart..<motionCount - hStart)
        case let .kmtalk(net):
            if keyed {
                try decide(net, encoded: hRows, start: hStart, until: ended ? total : decidedCount, total: ended ? total : nil)
            }
            let uEnd = ended ? total : decidedCount
            let u0 = rows(hRows, uStart - hStart..<uEnd - hStart)
            let c = net.cmcConfig.width
            var tokens = [Float](repeating: 0, count: u0.shape[0] * c)
            for r in 0..<u0.shape[0] {
                let token = keyTokens[uStart + r] ?? net.maskToken.data
                for j in 0..<c { tokens[r * c + j] = token[j] }
            }
            var u = linear(u0, weight: net.audioProjection.weight, bias: net.audioProjection.bias)
            u = add(u, Tensor(shape: [u0.shape[0], c], data: tokens))
            u = addPositions(u, table: sinusoidalPositions(length: u0.shape[0], width: c, offset: uStart))
            u = layerNorm(net.layers(u), gamma: net.norm.weight, beta: net.norm.bias, epsilon: net.epsilon)
            var m = linear(rows(u, emitted - uStart..<motionCount - uStart), weight: net.head.weight, bias: net.head.bias)
            net.motionActivation.apply(&m.data)
            motion = m
        }
        emitted = motionCount
        let keep = max(0, emitted - cmcLayers * cmcBand.back)
        keyTokens = keyTokens.filter { $0.key >= keep }
        let drop = firstNeededSample() - sampleBase
        if drop > 0 {
            let count = min(drop, samples.count)
            samples.removeFirst(count)
            sampleBase += count
        }
        return motion
    }

    /// The key-frame scan over frames `decided ..< until` and the key poses of the new key
    /// frames; `encoded` holds H rows from `start`; `total` is the frame count once known.
    private func decide(_ net: KMTalkNetwork, encoded: Tensor, start: Int, until: Int, total: Int?) throws {
        guard let locator = net.locator, let phoneHead = net.phoneHead, let phoneEmbedding = net.phoneEmbedding,
            let keyFC1 = net.keyFC1, let keyFC2 = net.keyFC2, let keyProjection = net.keyProjection
        else { return }
        guard until > decided else { return }
        let posteriors = softmax(linear(encoded, weight: phoneHead.weight, bias: phoneHead.bias))
        let p = posteriors.shape[1], available = encoded.shape[0]
        func score(_ t: Int) -> Float {
            if t == 0 { return 0 }
            let a = (t - start) * p, b = (t - 1 - start) * p
            var overlap: Float = 0
            for k in 0..<p { overlap += posteriors.data[a + k] * posteriors.data[b + k] }
            return 1 - overlap
        }
        var keys: [Int] = []
        if decided == 0 {
            keys.append(0)
            lastKey = 0
            decided = 1
        }
        for t in decided..<until {
            let following: Float = total.map { t + 1 < $0 } ?? true ? score(t + 1) : -1
            let current = score(t)
            let peak = current >= locator.threshold && current >= score(t - 1) && current > following
            if (peak && t - lastKey >= locator.minimumGap) || t - lastKey >= locator.maximumGap {
                keys.append(t)
                lastKey = t
            }
        }
        decided = max(decided, until)
        guard !keys.isEmpty else { return }
        let last = (total ?? Int.max) - 1
        precondition(keys.allSatisfy { min($0 + 1, last) - start < available }, "streaming: key pose past the window")
        let d = encoded.shape[1], e = phoneEmbedding.shape[1]
        let embedding = Tensor(shape: [p, e], data: phoneEmbedding.data)
        let left = matmul(rows(posteriors, keys.map { max($0 - 1, 0) - start }), embedding)
        let right = matmul(rows(posteriors, keys.map { min($0 + 1, last) - start }), embedding)
        let centre = rows(encoded, keys.map { $0 - start })
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
        net.activation.apply(&hidden.data)
        var poses = linear(hidden, weight: keyFC2.weight, bias: keyFC2.bias)
        net.motionActivation.apply(&poses.data)
        let projected = linear(poses, weight: keyProjection.weight, bias: keyProjection.bias)
        let c = projected.shape[1]
        for (r, k) in keys.enumerated() { keyTokens[k] = Array(projected.data[(r * c)..<((r + 1) * c)]) }
    }

    /// An utterance too short for one encoder frame: the offline path (which pads it with
    /// silence) on the whole signal, all of which is still kept.
    private func shortUtterance() throws -> Tensor? {
        guard emitted == 0, sampleBase == 0, sampleCount > 0 else { return nil }
        let motion = try model.run(features: model.features(samples)).motion
        emitted = motion.shape[0]
        return motion
    }
}

/// Rows `range` of `x` [T, C].
func rows(_ x: Tensor, _ range: Range<Int>) -> Tensor {
    let width = x.shape[1]
    return Tensor(shape: [range.count, width], data: Array(x.data[(range.lowerBound * width)..<(range.upperBound * width)]))
}

/// Rows `indices` of `x` [T, C].
func rows(_ x: Tensor, _ indices: [Int]) -> Tensor {
    let width = x.shape[1]
    var data = [Float](repeating: 0, count: indices.count * width)
    for (r, i) in indices.enumerated() {
        for j in 0..<width { data[r * width + j] = x.data[i * width + j] }
    }
    return Tensor(shape: [indices.count, width], data: data)
}

/// Outputs `outputs` (absolute indices) of one encoder conv layer, from input rows
/// starting at absolute index `inputStart`, with zero padding outside `0..<inputLength`
/// exactly as `conv1d`.
func convolve(
    _ x: Tensor, inputStart: Int, inputLength: Int, weights: (weight: Tensor, bias: Tensor),
    conv: ConvLayerConfig, outputs: Range<Int>
) -> Tensor {
    let inChannels = x.shape[1], kernel = conv.kernel, padding = kernel / 2
    let patch = inChannels * kernel
    var columns = [Float](repeating: 0, count: outputs.count * patch)
    for (r, t) in outputs.enumerated() {
        for k in 0..<kernel {
            let source = t * conv.stride - padding + k
            guard source >= 0, source < inputLength else { continue }
            let local = source - inputStart
            guard local >= 0, local < x.shape[0] else { continue }
            for c in 0..<inChannels { columns[r * patch + c * kernel + k] = x.data[local * inChannels + c] }
        }
    }
    let flat = weights.weight.reshaped([weights.weight.shape[0], patch])
    return linear(Tensor(shape: [outputs.count, patch], data: columns), weight: flat, bias: weights.bias)
}
