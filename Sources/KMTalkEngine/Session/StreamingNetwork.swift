
/// The network run on a growing model-rate signal, emitting each native motion frame once
/// it is final: equal (up to float rounding) to what the offline path computes for the
/// whole utterance.
///
/// Every stage is local in time, so each computes only its new rows, as soon as the rows
/// they depend on exist: log-mel frame `m` once samples reach `m * hop + n_fft / 2`; a conv
/// output once its kernel window has arrived; transformer rows through
/// `IncrementalTransformer` (band look-ahead); the key-frame locator's sequential scan at
/// `t` once `b[t + 1]` is known, with its state (`last`) kept; key poses once `post[k + 1]`
/// is; CMC rows likewise. At the end of the stream the remaining rows follow with the
/// offline zero padding and lengths. Every stage drops the rows no later row can see, so
/// memory does not grow with the stream's duration.
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
    /// The key-frame decision, frame by frame (nil without LKMA).
    private var scan: KeyFrameScan?
    /// Projected key-pose tokens of the key frames the next window can still use.
    private(set) var keyTokens: [Int: [Float]] = [:]
    /// Log-mel frames computed.
    private var melDone = 0
    /// Per conv layer: its kept input rows (from absolute row `convBases`) and outputs done.
    private var convInputs: [[Float]] = []
    private var convBases: [Int] = []
    private var convDone: [Int] = []
    private var encoderStack: IncrementalTransformer
    private var cmcStack: IncrementalTransformer?
    /// Encoder output rows (after the final norm) produced, and the kept ones with their
    /// phone posteriors, from absolute row `rowBase`.
    private var encodedCount = 0
    private var encodedRows: [Float] = []
    private var posteriorRows: [Float] = []
    /// Every phone-posterior row computed, when collecting (offline animation through the
    /// stream keeps them for the animation's phone track); nil: not collected.
    var collectedPosteriors: [Float]?
    private var rowBase = 0
    /// CMC input rows pushed.
    private var cmcDone = 0
    /// Conv-stack output rows (before the positions) from absolute frame `convolvedBase`
    /// on, kept until their motion frame is emitted: the shallow path's input (empty for a
    /// model without one).
    private var convolvedRows: [Float] = []
    private var convolvedBase = 0
    /// The loudness path's input (nil without one): its tracker, fed every mel row, and the
    /// values of the frames from `loudnessBase` on, kept until their motion frame is emitted.
    private var loudnessTracker: LoudnessTracker?
    private var loudnessRows: [Float] = []
    private var loudnessBase = 0

    /// Rows held by the conv, encoder, LKMA and CMC stages (bounded by the bands).
    var heldRows: Int {
        convInputs.reduce(0) { $0 + $1.count } / max(1, model.config.frontend.melCount)
            + encoderStack.heldRows + (cmcStack?.heldRows ?? 0) + encodedRows.count / model.config.encoder.width
            + convolvedRows.count / model.config.encoder.width + loudnessRows.count
    }

    /// Throws KMT_ERR_INCOMPATIBLE_MODEL for a model with full (unbanded) attention.
    init(model: KMTalkModel) throws {
        self.model = model
        guard let band = model.config.encoder.band else {
            throw KMTError(
                .incompatibleModel,
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
        encoderStack = IncrementalTransformer(stack: model.encoder.layers, band: band, width: model.config.encoder.width)
        scan = network?.locator.map { KeyFrameScan(locator: $0) }
        clearStages()
    }

    /// An independent copy of the state: running it to the end (`advance(ended: true)`)
    /// gives the frames as if the stream stopped here, without touching this one.
    func copy() throws -> StreamingNetwork {
        let other = try StreamingNetwork(model: model)
        other.samples = samples
        other.sampleBase = sampleBase
        other.sampleCount = sampleCount
        other.emitted = emitted
        other.scan = scan
        other.keyTokens = keyTokens
        other.melDone = melDone
        other.convInputs = convInputs
        other.convBases = convBases
        other.convDone = convDone
        other.encoderStack = encoderStack.copy()
        other.cmcStack = cmcStack?.copy()
        other.encodedCount = encodedCount
        other.encodedRows = encodedRows
        other.posteriorRows = posteriorRows
        other.rowBase = rowBase
        other.cmcDone = cmcDone
        other.convolvedRows = convolvedRows
        other.convolvedBase = convolvedBase
        other.loudnessTracker = loudnessTracker
        other.loudnessRows = loudnessRows
        other.loudnessBase = loudnessBase
        return other
    }

    /// While set (a speculative run, `checkpoint()` to `rollback(to:)`), no stage drops
    /// rows and no phone posteriors are collected: the run only appends, and the rollback
    /// truncates.
    private var speculative = false

    /// What a speculative run changes, to restore afterwards.
    struct Checkpoint {
        fileprivate let emitted: Int
        fileprivate let scan: KeyFrameScan?
        fileprivate let keyTokens: [Int: [Float]]
        fileprivate let melDone: Int
        fileprivate let convHeld: [Int]
        fileprivate let convDone: [Int]
        fileprivate let encoder: IncrementalTransformer.Checkpoint
        fileprivate let cmc: IncrementalTransformer.Checkpoint?
        fileprivate let encodedCount: Int
        fileprivate let encodedHeld: Int
        fileprivate let posteriorsHeld: Int
        fileprivate let cmcDone: Int
        fileprivate let convolvedHeld: Int
        fileprivate let loudnessTracker: LoudnessTracker?
        fileprivate let loudnessHeld: Int
    }

    /// Starts a speculative run on this network itself: `advance(ended: true, limit:
    /// from:)` then gives the frames as if the stream stopped here, and `rollback(to:)`
    /// restores the state, so the stream continues as if the run had not happened. Unlike
    /// a run on a `copy()`, no kept buffer is copied.
    func checkpoint() -> Checkpoint {
        speculative = true
        return Checkpoint(
            emitted: emitted, scan: scan, keyTokens: keyTokens, melDone: melDone, convHeld: convInputs.map(\.count),
            convDone: convDone, encoder: encoderStack.checkpoint(), cmc: cmcStack?.checkpoint(),
            encodedCount: encodedCount, encodedHeld: encodedRows.count, posteriorsHeld: posteriorRows.count,
            cmcDone: cmcDone, convolvedHeld: convolvedRows.count, loudnessTracker: loudnessTracker,
            loudnessHeld: loudnessRows.count)
    }

    /// Ends a speculative run: the state is as it was at `checkpoint`.
    func rollback(to checkpoint: Checkpoint) {
        emitted = checkpoint.emitted
        scan = checkpoint.scan
        keyTokens = checkpoint.keyTokens
        melDone = checkpoint.melDone
        for index in convInputs.indices { convInputs[index].removeLast(convInputs[index].count - checkpoint.convHeld[index]) }
        convDone = checkpoint.convDone
        encoderStack.rollback(to: checkpoint.encoder)
        if let cmc = checkpoint.cmc { cmcStack?.rollback(to: cmc) }
        encodedCount = checkpoint.encodedCount
        encodedRows.removeLast(encodedRows.count - checkpoint.encodedHeld)
        posteriorRows.removeLast(posteriorRows.count - checkpoint.posteriorsHeld)
        cmcDone = checkpoint.cmcDone
        convolvedRows.removeLast(convolvedRows.count - checkpoint.convolvedHeld)
        loudnessTracker = checkpoint.loudnessTracker
        loudnessRows.removeLast(loudnessRows.count - checkpoint.loudnessHeld)
        speculative = false
    }

    /// Forgets the utterance (same model and settings).
    func reset() {
        samples = []
        sampleBase = 0
        sampleCount = 0
        emitted = 0
        scan = network?.locator.map { KeyFrameScan(locator: $0) }
        keyTokens = [:]
        clearStages()
    }

    /// Empties the per-stage buffers.
    private func clearStages() {
        let convs = model.config.encoder.convolutions.count
        melDone = 0
        convInputs = Array(repeating: [], count: convs)
        convBases = Array(repeating: 0, count: convs)
        convDone = Array(repeating: 0, count: convs)
        encoderStack = IncrementalTransformer(stack: model.encoder.layers, band: encoderBand, width: model.config.encoder.width)
        cmcStack = network.map { IncrementalTransformer(stack: $0.layers, band: cmcBand, width: $0.cmcConfig.width) }
        encodedCount = 0
        encodedRows = []
        posteriorRows = []
        rowBase = 0
        cmcDone = 0
        convolvedRows = []
        convolvedBase = 0
        loudnessTracker = network?.makeLoudnessTracker()
        loudnessRows = []
        loudnessBase = 0
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
    /// With `ended`, the signal is complete and every remaining frame is returned; with
    /// `ended` and a `limit`, only the frames before native frame `limit` are, and the
    /// transformer stages stop at the rows those frames can see (the speculative run of a
    /// reduced-latency stream, on a copy that is then dropped: it cannot be continued).
    /// `from` (with `limit`) skips the frames before it, already delivered: the result then
    /// starts at native frame `max(from, emitted)`, and the completion network's last
    /// layer computes only those rows.
    /// Each stage computes only its new rows: log-mel frames and conv outputs once their
    /// window has arrived, transformer rows through `IncrementalTransformer`.
    func advance(ended: Bool, limit: Int? = nil, from: Int? = nil) throws -> Tensor? {
        try Self.advance([Request(network: self, ended: ended, limit: limit, from: from)])[0].get()
    }

    /// One network's share of a batched advance (as `advance(ended:limit:from:)`).
    struct Request {
        let network: StreamingNetwork
        let ended: Bool
        var limit: Int? = nil
        var from: Int? = nil
    }

    /// Advances several networks at once, each as `advance(ended:limit:from:)` would (the
    /// results in the same order; a network may appear only once). The networks of one
    /// model run their encoder and completion layers together (`IncrementalTransformer`'s
    /// batched push: one pass over the weights for all their new rows); the front-end,
    /// the key-frame scan and the output run per network. A network whose advance fails
    /// gets its error and leaves the batch; the others go on.
    static func advance(_ requests: [Request]) -> [Result<Tensor?, any Error>] {
        var results = [Result<Tensor?, any Error>?](repeating: nil, count: requests.count)
        // Front-end and convolutions.
        var encoderInputs = [Tensor?](repeating: nil, count: requests.count)
        var encoderLimits = [Int?](repeating: nil, count: requests.count)
        var allLengths = [[Int]](repeating: [], count: requests.count)
        for (i, request) in requests.enumerated() {
            precondition(request.limit == nil || request.ended, "advance: a limit applies to a run to the end only")
            precondition(request.from == nil || request.limit != nil, "advance: skipping frames applies to a limited run only")
            let network = request.network
            let lengths = network.lengths(samples: network.sampleCount, ended: request.ended)
            if request.ended, lengths.last! < 1 {
                results[i] = Result { try network.shortUtterance() }
                continue
            }
            allLengths[i] = lengths
        }
        // The new log-mel frames of a batch's few-frame pushes, through shared FFT calls.
        let melFrames = requests.count < 2 ? [Tensor?](repeating: nil, count: requests.count) : batchedMelFrames(
            requests, lengths: allLengths,
            wanted: requests.indices.map { i in
                guard results[i] == nil else { return false }
                let count = allLengths[i][0] - requests[i].network.melDone
                return count > 0 && count <= batchedMelFrameLimit
            })
        for (i, request) in requests.enumerated() where results[i] == nil {
            do {
                let network = request.network, lengths = allLengths[i]
                encoderInputs[i] = try network.convolved(lengths: lengths, ended: request.ended, melFrames: melFrames[i])
                // The CMC rows before `limit` see CMC input rows `cmcLayers * ahead` further;
                // the key frames among those need one more encoder row (`b[t + 1]`, `post[k + 1]`).
                encoderLimits[i] = request.limit.map { $0 + network.cmcLayers * network.cmcBand.ahead + (network.keyed ? 2 : 0) }
            } catch {
                results[i] = .failure(error)
            }
        }
        // Encoder layers, batched per model.
        let encoded = batchedPush(requests, active: encoderInputs.map { $0 != nil }) { i in
            (requests[i].network.encoderStack, encoderInputs[i]!, encoderLimits[i], nil)
        }
        // Key frames, key poses and the completion network's input.
        var cmcInputs = [Tensor?](repeating: nil, count: requests.count)
        for (i, request) in requests.enumerated() where results[i] == nil {
            do {
                switch try request.network.completionInput(encoded: encoded[i]!, lengths: allLengths[i], ended: request.ended) {
                case let .done(motion): results[i] = .success(motion)
                case let .complete(input): cmcInputs[i] = input
                }
            } catch {
                results[i] = .failure(error)
            }
        }
        // Completion layers, batched per model.
        let completed = batchedPush(requests, active: cmcInputs.map { $0 != nil }) { i in
            (requests[i].network.cmcStack!, cmcInputs[i]!, requests[i].limit, requests[i].from)
        }
        for (i, request) in requests.enumerated() where results[i] == nil {
            do {
                results[i] = .success(try request.network.output(completed[i]!, from: request.from))
            } catch {
                results[i] = .failure(error)
            }
        }
        return results.map { $0! }
    }

    /// The indices of the requests `selected` marks, grouped by their network's model, in
    /// order of each model's first request.
    private static func byModel(_ requests: [Request], where selected: [Bool]) -> [[Int]] {
        var groups: [ObjectIdentifier: Int] = [:]
        var members: [[Int]] = []
        for i in requests.indices where selected[i] {
            let key = ObjectIdentifier(requests[i].network.model)
            if let group = groups[key] {
                members[group].append(i)
            } else {
                groups[key] = members.count
                members.append([i])
            }
        }
        return members
    }

    /// Most new log-mel frames a network may bring to the shared front-end pass of a batched
    /// advance; a push with more (a long block) computes its own, split over the call's
    /// threads.
    private static let batchedMelFrameLimit = 16

    /// The new log-mel frames (`melDone..<lengths[i][0]`) of every network `wanted` marks,
    /// the networks of one model windowed into one buffer and put through the FFT four
    /// frames at a time whichever network they come from: a live push brings one or two
    /// frames per network, which alone would leave most of the FFT's four lanes empty.
    /// Each frame's row equals what `convolved` computes alone (the lanes are independent).
    private static func batchedMelFrames(_ requests: [Request], lengths: [[Int]], wanted: [Bool]) -> [Tensor?] {
        var out = [Tensor?](repeating: nil, count: requests.count)
        for members in byModel(requests, where: wanted) {
            let frontend = requests[members[0]].network.model.frontend
            let n = frontend.config.fftSize, mels = frontend.config.melCount
            let counts = members.map { lengths[$0][0] - requests[$0].network.melDone }
            let total = counts.reduce(0, +)
            var windowed = [Double](repeating: 0, count: total * n)
            var rows = [Float](repeating: 0, count: total * mels)
            var work = LogMelSpectrogram.Workspace(spectrum: frontend.spectrum, frames: frontend.framesPerSpectrum)
            windowed.withUnsafeMutableBufferPointer { w in
                var row = 0
                for (i, count) in zip(members, counts) {
                    let network = requests[i].network
                    network.samples.withUnsafeBufferPointer { signal in
                        for f in 0..<count {
                            frontend.windowFrame(network.melDone + f, signal: signal, signalStart: network.sampleBase,
                                                 into: w.baseAddress! + (row + f) * n)
                        }
                    }
                    row += count
                }
                rows.withUnsafeMutableBufferPointer { r in
                    frontend.logMel(windowed: w.baseAddress!, frames: total, into: r.baseAddress!, work: &work)
                }
            }
            var row = 0
            for (i, count) in zip(members, counts) {
                out[i] = Tensor(shape: [count, mels], data: Array(rows[(row * mels)..<((row + count) * mels)]))
                row += count
            }
        }
        return out
    }

    /// Pushes the rows `push(i)` gives for every active request to its stack, the stacks
    /// of one model together; nil for the inactive requests.
    private static func batchedPush(
        _ requests: [Request], active: [Bool],
        _ push: (Int) -> (stack: IncrementalTransformer, rows: Tensor, limit: Int?, from: Int?)
    ) -> [Tensor?] {
        var outputs = [Tensor?](repeating: nil, count: requests.count)
        for members in byModel(requests, where: active) {
            let pushes = members.map { i in
                let p = push(i)
                return IncrementalTransformer.Push(stack: p.stack, rows: p.rows, ended: requests[i].ended, limit: p.limit, from: p.from)
            }
            for (i, output) in zip(members, IncrementalTransformer.push(pushes)) { outputs[i] = output }
        }
        return outputs
    }

    /// The front-end and convolution stages: log-mel frames and conv rows up to `lengths`;
    /// returns the new encoder input rows (positions added).
    /// `melFrames`: the log-mel frames `melDone..<lengths[0]` when the caller computed them
    /// (`batchedMelFrames`); nil computes them here.
    private func convolved(lengths: [Int], ended: Bool, melFrames: Tensor? = nil) throws -> Tensor {
        // Log-mel frames.
        if lengths[0] > melDone {
            let first = melDone, base = sampleBase, frontend = model.frontend
            let frames = melFrames ?? samples.withUnsafeBufferPointer { signal in
                // Split over the call's threads when a push brings many frames (`WorkerThreads`).
                WorkerThreads.rows(lengths[0] - first, width: model.config.frontend.melCount, minimumPerPart: 512, alignment: 4) {
                    frontend.frames((first + $0.lowerBound)..<(first + $0.upperBound), signal: signal, signalStart: base)
                }
            }
            convInputs[0].append(contentsOf: frames.data)
            loudnessTracker?.push(frames)
            melDone = lengths[0]
            if encodedCount > 0, !speculative {
                let drop = min(samples.count, max(0, melDone * hop - half) - sampleBase)
                if drop > 0 {
                    samples.removeFirst(drop)
                    sampleBase += drop
                }
            }
        }
        if loudnessTracker != nil {
            loudnessRows.append(contentsOf: loudnessTracker!.advance(ended: ended, frames: lengths.last!))
        }
        // Convolutions.
        let encoder = model.encoder
        var encoderInput = Tensor(zeros: [0, model.config.encoder.width])
        var encoderStart = 0
        for (index, conv) in convolutions.enumerated() {
            let end = lengths[index + 1], done = convDone[index]
            guard end > done else { break }
            let channels = index == 0 ? model.config.frontend.melCount : convolutions[index - 1].channels
            let input = Tensor(shape: [convInputs[index].count / channels, channels], data: convInputs[index])
            let inputStart = convBases[index], inputLength = lengths[index]
            let y = WorkerThreads.rows(end - done, width: conv.channels, minimumPerPart: 256) {
                encoder.convolution(index, input, inputStart: inputStart, inputLength: inputLength, outputs: (done + $0.lowerBound)..<(done + $0.upperBound))
            }
            convDone[index] = end
            let keep = max(convBases[index], end * conv.stride - conv.kernel / 2)
            if keep > convBases[index], !speculative {
                convInputs[index].removeFirst(min(convInputs[index].count, (keep - convBases[index]) * channels))
                convBases[index] = keep
            }
            if index + 1 < convolutions.count {
                convInputs[index + 1].append(contentsOf: y.data)
            } else {
                encoderInput = y
                encoderStart = done
                if network?.shallow != nil { convolvedRows.append(contentsOf: y.data) }
            }
        }
        // Encoder positions.
        if encoderInput.shape[0] > 0 {
            if let table = encoder.positionTable, encoderStart + encoderInput.shape[0] > table.shape[0] {
                throw KMTError.invalidAudio("stream too long for this model: the learned positions cover \(table.shape[0]) frames")
            }
            encoderInput = encoder.positioned(encoderInput, offset: encoderStart)
        }
        return encoderInput
    }

    /// What follows the encoder for one network: its motion (a direct model, or nothing
    /// new), or the completion network's new input rows.
    private enum AfterEncoder {
        case done(Tensor?)
        case complete(Tensor)
    }

    /// The stages between the encoder and the completion network: the final norm, the
    /// phone posteriors, the key-frame scan and key poses, and the CMC input rows (a direct
    /// model's motion instead).
    private func completionInput(encoded: Tensor, lengths: [Int], ended: Bool) throws -> AfterEncoder {
        let encoder = model.encoder
        var h = encoded
        if h.shape[0] > 0 {
            h = encoder.normalized(h)
            encodedCount += h.shape[0]
        }
        // The utterance's frame count once it has ended (the encoder may have stopped short
        // of it at a limit).
        let total = ended ? lengths.last! : nil
        let complete = ended && encodedCount == lengths.last!

        switch model.network {
        case let .direct(weight, bias):
            guard h.shape[0] > 0 else { return .done(nil) }
            let m = model.directMotion(h, weight: weight, bias: bias)
            emitted += m.shape[0]
            return .done(m)
        case let .kmtalk(net):
            if h.shape[0] > 0 {
                encodedRows.append(contentsOf: h.data)
                if keyed {
                    let posteriors = net.phonePosteriors(h).data
                    posteriorRows.append(contentsOf: posteriors)
                    if !speculative { collectedPosteriors?.append(contentsOf: posteriors) }
                }
            }
            let ready = complete ? encodedCount : (keyed ? max(0, encodedCount - 1) : encodedCount)
            if keyed { try decide(net, until: ready, total: total) }
            var cmcInput = Tensor(zeros: [0, net.cmcConfig.width])
            if ready > cmcDone {
                let d = model.config.encoder.width
                let encoded = Tensor(shape: [ready - cmcDone, d], data: Array(encodedRows[((cmcDone - rowBase) * d)..<((ready - rowBase) * d)]))
                cmcInput = net.completionInput(encoded, offset: cmcDone, loudness: try loudness(cmcDone..<ready)) { keyTokens[$0] }
                cmcDone = ready
                keyTokens = keyTokens.filter { $0.key >= cmcDone }
                // Rows the scan (b[t-1] needs post[t-2]) and the CMC input no longer need.
                let keep = max(rowBase, min(cmcDone, (scan?.decided ?? cmcDone) - 2))
                if keep > rowBase, !speculative {
                    encodedRows.removeFirst((keep - rowBase) * d)
                    if keyed { posteriorRows.removeFirst((keep - rowBase) * (net.phoneHead?.outFeatures ?? 0)) }
                    rowBase = keep
                }
            }
            return .complete(cmcInput)
        }
    }

    /// The motion rows of the completion network's new output rows `out`.
    private func output(_ out: Tensor, from: Int?) throws -> Tensor? {
        guard case let .kmtalk(net) = model.network else { return nil }
        if let from, let done = cmcStack?.outputRows, min(from, done) > emitted {
            // The skipped frames' kept rows go unused.
            let skipped = min(from, done) - emitted
            _ = takeConvolved(frames: skipped)
            if loudnessTracker != nil, !speculative {
                let drop = min(loudnessRows.count, emitted + skipped - loudnessBase)
                loudnessRows.removeFirst(drop)
                loudnessBase += drop
            }
            emitted += skipped
        }
        guard out.shape[0] > 0 else { return nil }
        let m = net.completionOutput(out, convolved: takeConvolved(frames: out.shape[0]), loudness: try loudness(emitted..<(emitted + out.shape[0])))
        if loudnessTracker != nil, !speculative {  // emitted frames no longer need their values
            let drop = min(loudnessRows.count, emitted + out.shape[0] - loudnessBase)
            loudnessRows.removeFirst(drop)
            loudnessBase += drop
        }
        emitted += m.shape[0]
        return m
    }

    /// The key-frame scan over the undecided frames before `until` and the key poses of the
    /// new key frames, from the kept H and posterior rows; `total` is the frame count once
    /// known. Every row a decision needs (`post[t-2 ... t+1]`) is still kept: the trimming
    /// in `advance` keeps two rows behind the scan, and `until` stops one frame before the
    /// newest row until the stream ends.
    private func decide(_ net: KMTalkNetwork, until: Int, total: Int?) throws {
        guard var scan, until > scan.decided, let p = net.phoneHead?.outFeatures else { return }
        let start = rowBase
        var keys: [Int] = []
        posteriorRows.withUnsafeBufferPointer { rows in
            func score(_ t: Int) -> Float {
                guard t > 0 else { return 0 }
                return KeyFrameLocator.boundaryScore(rows.baseAddress! + (t - start) * p, previous: rows.baseAddress! + (t - 1 - start) * p, width: p)
            }
            for t in scan.decided..<until where scan.decideNext(total: total, score: score) {
                keys.append(t)
            }
        }
        self.scan = scan
        guard !keys.isEmpty else { return }
        let d = model.config.encoder.width, available = encodedRows.count / d
        let last = (total ?? Int.max) - 1
        guard keys.allSatisfy({ min($0 + 1, last) - start < available && max($0 - 1, 0) >= start }) else {
            throw KMTError(.internal, "streaming: a key pose needs rows outside the kept window")
        }
        let decoded = net.keyPoses(
            keys: keys, encoded: Tensor(shape: [encodedRows.count / d, d], data: encodedRows),
            posteriors: Tensor(shape: [posteriorRows.count / p, p], data: posteriorRows),
            rowBase: start, lastFrame: last)
        let c = decoded.tokens.shape[1]
        for (r, k) in keys.enumerated() { keyTokens[k] = Array(decoded.tokens.data[(r * c)..<((r + 1) * c)]) }
    }

    /// The kept conv rows of the next `frames` frames to emit ([frames, d]; [0, d] for a
    /// model without the shallow path), dropped from the buffer.
    private func takeConvolved(frames: Int) -> Tensor {
        let d = model.config.encoder.width
        guard network?.shallow != nil else { return Tensor(zeros: [0, d]) }
        let start = (emitted - convolvedBase) * d, end = start + frames * d
        let rows = Tensor(shape: [frames, d], data: Array(convolvedRows[start..<end]))
        if !speculative {
            convolvedRows.removeFirst(end)
            convolvedBase = emitted + frames
        }
        return rows
    }

    /// The loudness path's values of `frames` (empty without the path).
    private func loudness(_ frames: Range<Int>) throws -> ArraySlice<Float> {
        guard loudnessTracker != nil else { return [] }
        guard frames.lowerBound >= loudnessBase, frames.upperBound - loudnessBase <= loudnessRows.count else {
            throw KMTError(.internal, "streaming: the loudness of frames \(frames) is not available")
        }
        return loudnessRows[(frames.lowerBound - loudnessBase + loudnessRows.startIndex)..<(frames.upperBound - loudnessBase + loudnessRows.startIndex)]
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
