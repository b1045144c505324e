import Glibc

/// A loaded, validated, immutable model: configuration, front-end and network weights.
/// Shared by any number of sessions and threads.
final class KMTalkModel: Sendable {
    let config: ModelConfig
    /// Where the model was loaded from: its file path, or the name given to a memory load.
    let source: String
    /// The file's `__metadata__` entries.
    let metadata: [(key: String, value: String)]
    /// Number of tensors and scalars in the file.
    let tensorCount: Int
    let parameterCount: Int
    let frontend: LogMelSpectrogram
    let encoder: AudioEncoder
    /// What follows the encoder.
    enum Network: Sendable {
        /// `kmtalk-direct`: `motion = activation(encoder_output W^T + b)`.
        case direct(weight: Tensor, bias: Tensor)
        /// `kmtalk`: LKMA + CMC.
        case kmtalk(KMTalkNetwork)
    }
    let network: Network
    /// The template mesh of a vertices-space model (its animations pose without a rig);
    /// nil for the weight spaces.
    let template: VertexTemplate?
    let channelNames: CStringTable
    let architectureName: CStringTable
    /// `config.motion.space` as a C string (`kmt_model_motion_space`).
    let motionSpaceName: CStringTable

    /// Validates `file` against its declared architecture and builds the network.
    init(file: SafeTensorsFile, source: String) throws {
        let config = try ModelConfig(metadata: file.metadata, source: source)
        var weights = WeightStore(file: file, source: source, architecture: config.architecture.rawValue)
        encoder = try AudioEncoder(config: config.encoder, inputChannels: config.frontend.melCount, weights: &weights)
        if config.architecture == .kmtalk {
            network = .kmtalk(try KMTalkNetwork(config: config, weights: &weights))
        } else {
            network = .direct(
                weight: try weights.require("head.weight", shape: [config.motion.channels.count, config.encoder.width]),
                bias: try weights.require("head.bias", shape: [config.motion.channels.count]))
        }
        if config.motion.space == .vertices {
            template = try VertexTemplate(weights: &weights, motion: config.motion, source: source)
        } else {
            template = nil
            for name in [VertexTemplate.verticesTensor, VertexTemplate.facesTensor] where file.storedTypes[name] != nil {
                throw KMTError.corruptModel("\(source): tensor '\(name)' belongs to motion.space 'vertices', this model's space is '\(config.motion.space)'")
            }
        }
        try weights.checkAllUsed()
        self.config = config
        self.source = source
        self.metadata = file.metadata
        self.tensorCount = file.names.count
        self.parameterCount = file.parameterCount
        self.frontend = LogMelSpectrogram(config: config.frontend)
        self.channelNames = CStringTable(config.motion.channels)
        self.architectureName = CStringTable([config.architecture.rawValue])
        self.motionSpaceName = CStringTable([config.motion.space.rawValue])
        try probe(file: file)
    }

    /// Runs the network once on half a second of a synthetic voice-like signal: weights
    /// that load but cannot compute (a weight of 3e38 overflows to inf, then NaN) are a
    /// corrupt model now, not a library error on every later call.
    private func probe(file: SafeTensorsFile) throws {
        let rate = config.frontend.sampleRate
        var state: UInt32 = 0x2545_F491
        let samples = (0..<max(rate / 2, 1)).map { index -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            let noise = Float(state >> 8) / Float(1 << 24) - 0.5
            return 0.3 * sinf(2 * Float.pi * 180 * Float(index) / Float(rate)) + 0.05 * noise
        }
        let output: NetworkOutput
        do {
            output = try run(features: features(samples))
        } catch let error as KMTError where error.kind == .invalidAudio {
            return  // a model whose positions cannot hold half a second is judged on real input
        }
        guard output.encoded.data.allSatisfy(\.isFinite) && output.motion.data.allSatisfy(\.isFinite) else {
            // In file order, the first of equals: the message is the same on every load.
            var largest: (name: String, magnitude: Float)?
            for name in file.names {
                guard let tensor = file.tensors[name] else { continue }
                let magnitude = tensor.data.reduce(Float(0)) { max($0, abs($1)) }
                if largest == nil || magnitude > largest!.magnitude { largest = (name, magnitude) }
            }
            let detail = largest.map { ", the largest weight is \($0.magnitude) in '\($0.name)'" } ?? ""
            throw KMTError.corruptModel("\(source): the network computes non-finite values on a test signal (weights out of range\(detail))")
        }
    }

    /// Loads a model file from disk.
    convenience init(path: String) throws {
        let file = try SafeTensorsFile(path: path)
        try self.init(file: file, source: path)
    }

    /// Loads a model from bytes in memory.
    convenience init(bytes: UnsafeRawBufferPointer, source: String = "model buffer") throws {
        try self.init(file: SafeTensorsFile(bytes: bytes, source: source), source: source)
    }

    /// Computes log-mel features of model-rate mono samples.
    func features(_ samples: [Float]) -> Tensor { frontend(samples) }

    /// Runs the network on log-mel features [T, n_mels]; returns motion at the native
    /// frame rate, [frames, channels]. Inputs too short for one encoder frame are padded
    /// with the log floor (silence) so every non-empty input yields at least one frame.
    func motion(features: Tensor) throws -> Tensor {
        try run(features: features).motion
    }

    /// Runs the network and returns every intermediate (see `motion(features:)`).
    func run(features: Tensor) throws -> NetworkOutput {
        var features = features
        if encoder.outputLength(featureFrames: features.shape[0]) < 1 {
            let needed = config.encoder.convolutions.map(\.kernel).max() ?? 1
            let silence = logf(config.frontend.logFloor)
            features = Tensor(
                shape: [needed, features.shape[1]],
                data: features.data + [Float](repeating: silence, count: (needed - features.shape[0]) * features.shape[1]))
        }
        let frames = encoder.outputLength(featureFrames: features.shape[0])
        if config.encoder.positions == .learned, frames > config.encoder.maximumPositions {
            let seconds = Double(config.encoder.maximumPositions) / config.motion.fps
            throw KMTError.invalidAudio("audio too long for this model: \(frames) frames, the learned positions cover \(config.encoder.maximumPositions) (\(formatSeconds(seconds)) s)")
        }
        var clock = StageClock()
        let (encoded, convolved) = encoder.encode(features)
        clock.mark("encoder")
        switch network {
        case let .direct(weight, bias):
            let motion = directMotion(encoded, weight: weight, bias: bias)
            clock.mark("head")
            return NetworkOutput(
                encoded: encoded, phonePosteriors: nil, featureProbabilities: nil, boundaryScores: [], keyFrames: [],
                keyPoses: nil, motion: motion, stageSeconds: clock.stages)
        case let .kmtalk(network):
            var output = network(encoded, convolved: convolved, features: features)
            output.stageSeconds = clock.stages + output.stageSeconds
            return output
        }
    }

    /// Motion rows of the `kmtalk-direct` architecture from encoder rows: the linear head
    /// and the motion activation.
    func directMotion(_ encoded: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        var motion = linear(encoded, weight: weight, bias: bias)
        config.motion.activation.apply(&motion.data)
        return motion
    }
}
