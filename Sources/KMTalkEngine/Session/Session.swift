
/// Validated session options (from `kmt_session_params`).
struct SessionOptions: Sendable {
    /// Threads a call may use: 0 or 1, the calling thread only; N > 1 splits the network's
    /// work on a long sequence by rows over N threads started for the call (`WorkerThreads`;
    /// the same results, see `useThreads`).
    var threads: Int = 0
    /// Output frame rate; nil = the model's native rate.
    var outputFps: Double? = nil
    var nonfinitePolicy: NonFinitePolicy = .reject
    /// The streaming latency a session starts at (ms): nil = the model's default, infinity =
    /// its full look-ahead (exact).
    var latencyMs: Double? = nil

    init(threads: Int = 0, outputFps: Double? = nil, nonfinitePolicy: NonFinitePolicy = .reject, latencyMs: Double? = nil) {
        self.threads = threads
        self.outputFps = outputFps
        self.nonfinitePolicy = nonfinitePolicy
        self.latencyMs = latencyMs
    }

    /// The accepted output frame rates.
    static let fpsRange: ClosedRange<Double> = 1...240

    /// The frame rate a session of `model` outputs: `outputFps`, or the model's native
    /// rate. The one place the rule lives (offline, streaming and the C API use it).
    func resolvedFps(for model: KMTalkModel) -> Double {
        outputFps ?? model.config.motion.fps
    }

    /// Applies `threads` to the calls about to run on this thread: the library's own
    /// row-split parallelism gets them, OpenBLAS one thread (its threads gained 0-11 % on
    /// two cores, and nested inside the split they would only compete).
    func useThreads() {
        BLAS.setThreads(1)
        WorkerThreads.use(threads)
    }
}

/// Per-stream inference state over a shared model. Offline calls run the whole
/// pipeline: decode -> mono 16 kHz -> log-mel -> network -> frame-rate conversion.
final class Session {
    let model: KMTalkModel
    let options: SessionOptions

    /// Receives the progress of the offline calls (`animate`) and may cancel them
    /// (`ProgressReporter`); nil: none. The streaming calls do not report.
    let progress: ProgressReporter.Callback?

    init(model: KMTalkModel, options: SessionOptions, progress: ProgressReporter.Callback? = nil) {
        self.model = model
        self.options = options
        self.progress = progress
    }

    /// Where the stages of the whole-utterance path end, as shares of the call: decoding
    /// and resampling, the log-mel features, the network (the frame-rate conversion
    /// after it is quick). From `kmtalk bench --seconds 100` with kmtalk-base (release, 2
    /// cores): resampling 8 ms, features 47 ms, network 406 ms of 462 ms; decoding a
    /// compressed file takes longer than resampling PCM, hence 5% for it.
    static let decodeShare = 0.05, featuresShare = 0.15, networkShare = 0.98

    /// The streaming state (`kmt_session_push_*` / `pull` / `flush` / `reset`), created by
    /// the first streaming call.
    var streaming: StreamingSession?

    /// The session's streaming state, created on first use (throws for a model that
    /// cannot stream).
    func stream() throws -> StreamingSession {
        if let streaming { return streaming }
        let created = try StreamingSession(model: model, options: options)
        streaming = created
        return created
    }

    /// Timings of the last call, in seconds, by stage.
    private(set) var lastTimings: [(stage: String, seconds: Double)] = []

    /// Audio longer than this (seconds) is animated through the streaming network at its
    /// full look-ahead, block by block, when the model can stream: the same frames (within
    /// float rounding) in memory bounded by the output, where the whole-utterance path
    /// holds every intermediate of the network (about 27 MB per minute of audio).
    static let boundedOfflineSeconds = 120.0

    /// Animates the audio file at `path`. With `progress` the call reports "decode",
    /// "features" and "network" (long files: "network" block by block, decoding and the
    /// network interleaved) and throws KMT_ERR_CANCELLED when the host stops it.
    func animate(path: String) throws -> Animation {
        options.useThreads()
        let reporter = progress.map(ProgressReporter.init)
        var clock = StageClock()
        var stream: StreamingSession?
        try reporter.report(0, stage: "decode")
        let decoded = try AudioDecoder.decode(
            path: path, targetRate: model.config.frontend.sampleRate, nonfinitePolicy: options.nonfinitePolicy,
            consumer: { seconds in
                stream = try self.boundedStream(seconds: seconds)
                return stream.map(self.feeder)
            },
            progress: reporter.map { reporter -> (Double) throws -> Void in
                { fraction in
                    // Known once the header is read: the stream runs while the file decodes.
                    if stream != nil {
                        try reporter.report(fraction * Self.networkShare, stage: "network")
                    } else {
                        try reporter.report(fraction * Self.decodeShare, stage: "decode")
                    }
                }
            })
        if let stream {
            clock.mark("decode+stream")
            return try finish(stream, source: path, clock: &clock, progress: reporter)
        }
        clock.mark("decode+resample")
        return try animate(samples: decoded.samples, source: path, clock: &clock, progress: reporter)
    }

    /// Animates interleaved float PCM at any supported rate and channel count. Progress
    /// as for `animate(path:)` ("decode" is the mixing down and resampling).
    func animate(
        pcm: UnsafePointer<Float>, frameCount: Int, sampleRate: Int, channels: Int
    ) throws -> Animation {
        options.useThreads()
        let reporter = progress.map(ProgressReporter.init)
        var clock = StageClock()
        let stream = sampleRate > 0 ? try boundedStream(seconds: Double(frameCount) / Double(sampleRate)) : nil
        let stage: StaticString = stream == nil ? "decode" : "network"
        try reporter.report(0, stage: stage)
        let samples = try AudioDecoder.convert(
            samples: pcm, frameCount: frameCount, sampleRate: sampleRate, channels: channels,
            targetRate: model.config.frontend.sampleRate, nonfinitePolicy: options.nonfinitePolicy,
            consumer: stream.map(feeder),
            progress: reporter.part(0...(stream == nil ? Self.decodeShare : Self.networkShare), stage: stage))
        if let stream {
            clock.mark("resample+stream")
            return try finish(stream, source: nil, clock: &clock, progress: reporter)
        }
        clock.mark("resample")
        return try animate(samples: samples, source: nil, clock: &clock, progress: reporter)
    }

    /// A stream at the full look-ahead collecting phone posteriors, for audio of `seconds`
    /// over `boundedOfflineSeconds`; nil for shorter audio or a model that cannot stream.
    private func boundedStream(seconds: Double) throws -> StreamingSession? {
        guard seconds > Self.boundedOfflineSeconds, let stream = try? StreamingSession(model: model, options: options) else {
            return nil
        }
        try stream.setLatency(ms: stream.fullLatencyMs)
        stream.collectPhonePosteriors()
        gathered = []
        return stream
    }

    /// Model-rate samples a bounded stream gathers before a push when the session has more
    /// than one thread (8.2 s: ~400 encoder rows, enough to split every stage's rows).
    static let threadedPushSamples = 1 << 17

    /// Pushes model-rate mono blocks into `stream`; with more than one thread, gathered
    /// into pushes of `threadedPushSamples` (the rest goes in at `finish`).
    private func feeder(_ stream: StreamingSession) -> AudioDecoder.SampleConsumer {
        let gather = options.threads > 1 ? Self.threadedPushSamples : 0
        return { [self] block in
            gathered.append(contentsOf: block)
            guard gathered.count >= gather else { return }
            try pushGathered(into: stream)
        }
    }

    /// Samples gathered for the bounded stream's next push.
    private var gathered: [Float] = []

    private func pushGathered(into stream: StreamingSession) throws {
        defer { gathered.removeAll(keepingCapacity: true) }
        try gathered.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
            try stream.push(base, frameCount: buffer.count, sampleRate: model.config.frontend.sampleRate, channels: 1)
        }
    }

    /// Flushes a bounded offline stream into the animation.
    private func finish(
        _ stream: StreamingSession, source: String?, clock: inout StageClock, progress: ProgressReporter?
    ) throws -> Animation {
        try pushGathered(into: stream)
        gathered = []
        try stream.flush()
        let motion = stream.pullAll()
        clock.mark("flush")
        lastTimings = clock.stages
        guard motion.shape[0] > 0 else { throw KMTError.invalidAudio("audio is empty after resampling") }
        Log.debug("animated through the stream into \(motion.shape[0]) frames at \(stream.outputFps) fps")
        let animation = try makeAnimation(
            motion: motion, fps: stream.outputFps, posteriors: stream.takePhonePosteriors(), source: source)
        try progress.finish(stage: "network")
        return animation
    }

    /// Runs the network on model-rate mono `samples`; `source` names the audio file (nil
    /// for PCM) in the animation's provenance. `progress` reports "features" and
    /// "network" from `decodeShare` on, and the end.
    func animate(
        samples: [Float], source: String?, clock: inout StageClock, progress: ProgressReporter? = nil
    ) throws -> Animation {
        guard !samples.isEmpty else { throw KMTError.invalidAudio("audio is empty after resampling") }
        try progress.report(Self.decodeShare, stage: "features")
        let features = model.features(samples)
        clock.mark("features")
        try progress.report(Self.featuresShare, stage: "network")
        let output = try model.run(features: features)
        var motion = output.motion
        clock.mark("network")
        try progress.report(Self.networkShare, stage: "network")
        guard motion.data.allSatisfy({ $0.isFinite }) else {
            throw KMTError(.internal, "the network produced non-finite values (please report this with the input)")
        }
        let nativeFps = model.config.motion.fps
        let fps = options.resolvedFps(for: model)
        motion = resampleFrames(motion, from: nativeFps, to: fps)
        clock.mark("fps")
        // The network's own split replaces its total (the remainder is bookkeeping).
        lastTimings = clock.stages.flatMap { $0.stage == "network" ? output.stageSeconds : [$0] }
        Log.debug("animated \(samples.count) samples into \(motion.shape[0]) frames at \(fps) fps")
        let animation = try makeAnimation(motion: motion, fps: fps, posteriors: output.phonePosteriors, source: source)
        try progress.finish(stage: "network")
        return animation
    }

    /// The animation of `motion` at `fps`, with the phone track of `posteriors` (native rate).
    private func makeAnimation(motion: Tensor, fps: Double, posteriors: Tensor?, source: String?) throws -> Animation {
        var phones: PhoneTrack?
        if let posteriors, let inventory = model.config.lkma?.phones, posteriors.shape.last == inventory.count {
            phones = PhoneTrack(posteriors: posteriors, phones: inventory, fps: model.config.motion.fps)
        }
        if let template = model.template {
            return try Animation(
                values: motion, fps: fps, template: template, source: source, model: model.source, phones: phones,
                mouthCueThresholds: model.config.mouthCueThresholds)
        }
        return Animation(
            values: motion, fps: fps, channelNames: model.config.motion.channels, source: source, model: model.source,
            phones: phones, mouthCueThresholds: model.config.mouthCueThresholds)
    }
}
