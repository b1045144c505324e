
/// Real-time animation of one utterance at a time: push PCM blocks of any size, pull the
/// motion frames that have become final, flush at the end, reset for the next utterance.
///
/// A frame becomes final `latencyMs` after its time, once the audio reaching that far has
/// been pushed: by default `defaultLatencyMs` (150 ms) or the model's full look-ahead when
/// that is shorter. At the full look-ahead (`fullLatencyMs`, set with `setLatency`) the
/// concatenated frames equal the offline result for the same audio (same count; values
/// within float rounding) because every stage computes its rows incrementally with the
/// offline rules (see `StreamingNetwork`); below it, each frame is computed as if the
/// audio ended `latencyMs` after it.
///
/// Not thread-safe: one thread at a time per instance; the model may be shared.
final class StreamingSession {
    /// The shared model.
    let model: KMTalkModel
    /// The session's options (threads, output fps, non-finite policy).
    let options: SessionOptions
    let network: StreamingNetwork
    private var frameRate: FrameRateConverter
    private var sink: MonoResamplingSink?
    /// True after `flush` until `reset`.
    private(set) var flushed = false
    /// Final frames not pulled yet (row-major, `channelCount` floats each).
    private var pending: [Float] = []
    /// Index of the first pending frame in the utterance.
    private var pendingFirst = 0

    /// Throws KMT_ERR_INCOMPATIBLE_MODEL for a model that cannot stream (full attention).
    init(model: KMTalkModel, options: SessionOptions) throws {
        self.model = model
        self.options = options
        network = try StreamingNetwork(model: model)
        frameRate = FrameRateConverter(
            inputFps: model.config.motion.fps, outputFps: options.resolvedFps(for: model),
            channels: model.config.motion.channels.count)
        // The session's latency (validated by the API: >= minimumLatencyMs, or infinity
        // for exact), else the model's default.
        let preferred = options.latencyMs ?? model.config.streamingDefaultLatencyMs ?? Self.defaultLatencyMs
        if fullLatencyMs > preferred { requestedLatencyMs = preferred }
    }

    /// Motion channels per frame.
    var channelCount: Int { model.config.motion.channels.count }
    /// Frames per second of the pulled frames.
    var outputFps: Double { frameRate.outputFps }
    /// Final frames waiting to be pulled.
    var pendingFrames: Int { pending.count / channelCount }

    /// The model's full look-ahead in milliseconds: how long after a frame's time the
    /// audio must reach before that frame is exact (the STFT half window, the
    /// convolutions, the encoder and CMC attention bands and the key-frame locator, plus
    /// one native frame when the output fps differs from the native rate). The
    /// resampler's own delay for input not at the model rate comes on top.
    var fullLatencyMs: Double {
        var ms = Double(network.latencySamples) * 1000 / Double(model.config.frontend.sampleRate)
        if frameRate.inputFps != frameRate.outputFps { ms += 1000 / frameRate.inputFps }
        return ms
    }

    /// The latency when below `fullLatencyMs` (the default or one chosen with
    /// `setLatency`), or nil (exact).
    private(set) var requestedLatencyMs: Double?

    /// The session's latency in milliseconds (the requested one, or the full look-ahead).
    var latencyMs: Double { requestedLatencyMs ?? fullLatencyMs }

    /// The lowest latency accepted by `setLatency`.
    static let minimumLatencyMs = 20.0

    /// The latency of a new session when the model's full look-ahead is longer and its
    /// file names none (`config.streaming.default_latency_ms`). Measured on 481 held-out
    /// utterances (training/scripts/stream_quality.py), kmtalk-base streamed at 150 ms
    /// scores as its exact 296 ms stream against the teacher.
    static let defaultLatencyMs = 150.0

    /// Chooses the latency for the next utterances (before the first push after creation
    /// or `reset`). At or above `fullLatencyMs` the frames are exact; below it, each frame
    /// is emitted `ms` after its time, computed as if the audio ended there (the part of
    /// the look-ahead not yet heard counts as the end of the stream), so it may differ
    /// from the offline result (`kmtalk bench --stream` measures by how much).
    func setLatency(ms: Double) throws {
        guard sink == nil else {
            throw KMTError.invalidArgument("the latency can only change before the first push of an utterance (call kmt_session_reset first)")
        }
        guard !ms.isNaN, ms != .infinity else {
            throw KMTError.invalidArgument("latency \(ms) ms is not a finite number of milliseconds")
        }
        guard ms >= Self.minimumLatencyMs else {
            throw KMTError.invalidArgument("latency \(ms) ms is below the minimum \(Self.minimumLatencyMs) ms")
        }
        requestedLatencyMs = ms >= fullLatencyMs ? nil : ms
    }

    /// Native frames handed to the frame-rate stage (exact or speculative).
    private var delivered = 0

    /// Sizes of the internal buffers (model-rate samples, rows held by the network's
    /// stages, key tokens, native frames kept for interpolation), for tests that check
    /// memory stays bounded.
    var bufferSizes: (samples: Int, rows: Int, keyTokens: Int, nativeFloats: Int) {
        (network.samples.count, network.heldRows, network.keyTokens.count, frameRate.native.count)
    }

    /// Pushes `frameCount` interleaved float frames. The first push after creation or
    /// `reset` fixes the sample rate and channel count of the utterance.
    func push(_ pcm: UnsafePointer<Float>, frameCount: Int, sampleRate: Int, channels: Int) throws {
        if let error = Self.push([Block(session: self, pcm: pcm, frameCount: frameCount)], sampleRate: sampleRate, channels: channels)[0] {
            throw error
        }
    }

    /// One session's audio in a batched push: `frameCount` interleaved float frames.
    struct Block {
        let session: StreamingSession
        let pcm: UnsafePointer<Float>
        let frameCount: Int
    }

    /// Pushes a block to each of several sessions (each session at most once), as
    /// `push(_:frameCount:sampleRate:channels:)` on each would: the same frames up to
    /// float rounding. The sessions of one model run each transformer layer together, one
    /// pass over its weights for all their new rows (a server ticking many live streams
    /// pays the weights' memory traffic once per tick instead of once per stream). Returns
    /// each session's error, nil where its push succeeded; a session that fails stops
    /// there and the others go on. Uses the threads of the first session's options.
    static func push(_ blocks: [Block], sampleRate: Int, channels: Int) -> [(any Error)?] {
        var errors = [(any Error)?](repeating: nil, count: blocks.count)
        // The utterance's rate and channels, fixed by its first push.
        for (i, block) in blocks.enumerated() {
            do { try block.session.openSink(sampleRate: sampleRate, channels: channels) } catch { errors[i] = error }
        }
        guard let first = blocks.first else { return errors }
        first.session.options.useThreads()
        var offset = 0
        while true {
            // The next block of every session that has frames left and no error.
            var advancing: [Int] = []
            for (i, block) in blocks.enumerated() where errors[i] == nil && offset < block.frameCount {
                do {
                    let session = block.session, count = min(AudioDecoder.blockFrames, block.frameCount - offset)
                    try session.sink!.consume(block.pcm + offset * channels, frameCount: count)
                    session.network.append(session.sink!.takeOutput())
                    advancing.append(i)
                } catch {
                    errors[i] = error
                }
            }
            guard !advancing.isEmpty else { break }
            let failures = advance(advancing.map { blocks[$0].session })
            for (i, failure) in zip(advancing, failures) where failure != nil { errors[i] = failure }
            offset += AudioDecoder.blockFrames
        }
        return errors
    }

    /// Creates the resampling sink on the first push of an utterance, or checks that a
    /// later push has the same rate and channel count.
    private func openSink(sampleRate: Int, channels: Int) throws {
        guard !flushed else {
            throw KMTError.invalidArgument("the stream was flushed; call kmt_session_reset before pushing the next utterance")
        }
        if let sink {
            guard sink.inputRate == sampleRate, sink.channels == channels else {
                throw KMTError.invalidArgument(
                    "this utterance is \(sink.inputRate) Hz / \(sink.channels) channels (fixed by its first push); got \(sampleRate) Hz / \(channels) channels; call kmt_session_reset to change")
            }
        } else {
            sink = try MonoResamplingSink(
                inputRate: sampleRate, channels: channels, outputRate: model.config.frontend.sampleRate,
                nonfinitePolicy: options.nonfinitePolicy, source: "PCM stream")
        }
    }

    /// Pushes `frameCount` interleaved 16-bit frames (scaled by 1/32768, as libsndfile
    /// reads 16-bit files).
    func push(_ pcm: UnsafePointer<Int16>, frameCount: Int, sampleRate: Int, channels: Int) throws {
        guard channels >= 1, channels <= 1_024 else {
            throw KMTError.invalidAudio("PCM stream: channel count \(channels) is outside 1..1024")
        }
        guard frameCount > 0 else {
            var none: Float = 0
            try push(&none, frameCount: 0, sampleRate: sampleRate, channels: channels)
            return
        }
        var converted = [Float](repeating: 0, count: min(frameCount, AudioDecoder.blockFrames) * max(channels, 1))
        var offset = 0
        repeat {
            let count = min(AudioDecoder.blockFrames, frameCount - offset)
            for i in 0..<(count * channels) { converted[i] = Float(pcm[offset * channels + i]) / 32_768 }
            try converted.withUnsafeBufferPointer {
                try push($0.baseAddress!, frameCount: count, sampleRate: sampleRate, channels: channels)
            }
            offset += count
        } while offset < frameCount
    }

    /// Ends the utterance: every remaining frame becomes final.
    func flush() throws {
        guard !flushed else { return }
        flushed = true
        guard let sink else { return }
        options.useThreads()
        network.append(try sink.finish())
        try advance(ended: true)
        pending.append(contentsOf: frameRate.finish())
    }

    /// Starts a new utterance with the same settings (pending frames are discarded).
    func reset() {
        network.reset()
        frameRate = FrameRateConverter(inputFps: frameRate.inputFps, outputFps: frameRate.outputFps, channels: channelCount)
        sink = nil
        delivered = 0
        flushed = false
        pending = []
        pendingFirst = 0
    }

    /// Moves up to `maximumFrames` final frames into `buffer`; returns how many and the
    /// time in seconds of the first one.
    func pull(into buffer: UnsafeMutablePointer<Float>, maximumFrames: Int) -> (frames: Int, firstTime: Double) {
        let count = min(maximumFrames, pendingFrames)
        let time = Double(pendingFirst) / outputFps
        guard count > 0 else { return (0, time) }
        pending.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count * channelCount) }
        pending.removeFirst(count * channelCount)
        pendingFirst += count
        return (count, time)
    }

    /// Keeps every phone-posterior row the network computes from now on (for a model with
    /// a phone head), for `takePhonePosteriors`.
    func collectPhonePosteriors() {
        network.collectedPosteriors = network.keyed ? [] : nil
    }

    /// The collected phone posteriors, [native frames, phones], or nil (not collected, or
    /// no phone head); collecting stops.
    func takePhonePosteriors() -> Tensor? {
        defer { network.collectedPosteriors = nil }
        guard let rows = network.collectedPosteriors, let phones = model.config.lkma?.phones.count, phones > 0 else { return nil }
        return Tensor(shape: [rows.count / phones, phones], data: rows)
    }

    /// Pulls every pending frame as [frames, channels].
    func pullAll() -> Tensor {
        let frames = pendingFrames
        let result = Tensor(shape: [frames, channelCount], data: pending)
        pending = []
        pendingFirst += frames
        return result
    }

    private func advance(ended: Bool) throws {
        if !ended, let error = Self.advance([self])[0] { throw error }
        guard ended else { return }
        let first = network.emitted
        if let motion = try network.advance(ended: true) {
            deliver(try checked(motion), first: first, until: network.emitted)
        }
    }

    /// Advances the sessions' networks over the audio they received (their exact frames),
    /// then emits the frames each one's requested latency has reached but its exact path
    /// has not, from its network run to the end as if the audio stopped there (and then
    /// rolled back).
    /// Both runs are batched over the sessions (`StreamingNetwork.advance(_:)`). Returns
    /// each session's error, or nil.
    private static func advance(_ sessions: [StreamingSession]) -> [(any Error)?] {
        var errors = [(any Error)?](repeating: nil, count: sessions.count)
        let firsts = sessions.map { $0.network.emitted }
        let exact = StreamingNetwork.advance(sessions.map { StreamingNetwork.Request(network: $0.network, ended: false) })
        for (i, session) in sessions.enumerated() {
            do {
                if let motion = try exact[i].get() {
                    session.deliver(try session.checked(motion), first: firsts[i], until: session.network.emitted)
                }
            } catch {
                errors[i] = error
            }
        }
        // Speculation below the look-ahead, on each network itself between a checkpoint
        // and its rollback: native frames before `target` are due; the run computes only
        // what they see, and its last layer only the frames not yet delivered.
        var speculating: [(index: Int, first: Int, target: Int)] = []
        for (i, session) in sessions.enumerated() where errors[i] == nil {
            if let requested = session.requestedLatencyMs, let target = session.speculationTarget(latencyMs: requested) {
                speculating.append((i, max(session.network.emitted, session.delivered), target))
            }
        }
        let checkpoints = speculating.map { sessions[$0.index].network.checkpoint() }
        let speculated = StreamingNetwork.advance(speculating.map {
            StreamingNetwork.Request(network: sessions[$0.index].network, ended: true, limit: $0.target, from: sessions[$0.index].delivered)
        })
        for ((run, result), checkpoint) in zip(zip(speculating, speculated), checkpoints) {
            let session = sessions[run.index]
            let reached = session.network.emitted
            session.network.rollback(to: checkpoint)
            do {
                if let motion = try result.get() {
                    session.deliver(try session.checked(motion), first: run.first, until: min(run.target, reached))
                }
            } catch {
                errors[run.index] = error
            }
        }
        return errors
    }

    /// The native frame before which the requested latency has made every frame due, when
    /// that is past the frames delivered; nil otherwise.
    private func speculationTarget(latencyMs: Double) -> Int? {
        let rate = Double(model.config.frontend.sampleRate)
        let frameSamples = model.config.encoder.totalStride * model.config.frontend.hopLength
        var reach = Int(latencyMs * rate / 1000)
        if frameRate.inputFps != frameRate.outputFps { reach -= frameSamples }
        let heard = network.sampleCount - max(0, reach)
        let target = heard >= 0 ? heard / frameSamples + 1 : 0
        guard target > delivered, network.sampleCount > 0 else { return nil }
        return target
    }

    /// Hands native rows `delivered ..< until` of `motion` (which starts at native frame
    /// `first`) to the frame-rate stage; rows already delivered are skipped.
    private func deliver(_ motion: Tensor, first: Int, until: Int) {
        let start = max(delivered, first)
        guard until > start else { return }
        pending.append(contentsOf: frameRate.append(rows(motion, (start - first)..<(until - first))))
        delivered = until
    }

    private func checked(_ motion: Tensor) throws -> Tensor {
        guard motion.data.allSatisfy({ $0.isFinite }) else {
            throw KMTError(.internal, "the network produced non-finite values (please report this with the input)")
        }
        return motion
    }
}
