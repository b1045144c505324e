import CKMTalk
import Glibc

/// A loaded, validated, immutable model: configuration, front-end and network weights.
/// Shared by any number of sessions and threads.
public final class KMTalkModel: Sendable {
    public let config: ModelConfig
    /// The file's `__metadata__` entries.
    public let metadata: [(key: String, value: String)]
    /// Number of tensors and scalars in the file.
    public let tensorCount: Int
    public let parameterCount: Int
    let frontend: LogMelSpectrogram
    let encoder: AudioEncoder
    /// Direct motion head: `motion = activation(encoder_output W^T + b)`.
    let headWeight: Tensor, headBias: Tensor
    let channelNames: CStringTable
    let architectureName: CStringTable

    /// Validates `file` against its declared architecture and builds the network.
    public init(file: SafeTensorsFile, source: String) throws {
        let config = try ModelConfig(metadata: file.metadata, source: source)
        var weights = WeightStore(file: file, source: source, architecture: config.architecture)
        encoder = try AudioEncoder(config: config.encoder, inputChannels: config.frontend.melCount, weights: &weights)
        headWeight = try weights.require("head.weight", shape: [config.motion.channels.count, config.encoder.width])
        headBias = try weights.require("head.bias", shape: [config.motion.channels.count])
        try weights.checkAllUsed()
        self.config = config
        self.metadata = file.metadata
        self.tensorCount = file.tensors.count
        self.parameterCount = file.parameterCount
        self.frontend = LogMelSpectrogram(config: config.frontend)
        self.channelNames = CStringTable(config.motion.channels)
        self.architectureName = CStringTable([config.architecture])
    }

    /// Loads a model file from disk.
    public convenience init(path: String) throws {
        let file = try SafeTensorsFile(path: path)
        try self.init(file: file, source: path)
    }

    /// Loads a model from bytes in memory.
    public convenience init(bytes: UnsafeRawBufferPointer, source: String = "model buffer") throws {
        try self.init(file: SafeTensorsFile(bytes: bytes, source: source), source: source)
    }

    /// Computes log-mel features of model-rate mono samples.
    public func features(_ samples: [Float]) -> Tensor { frontend(samples) }

    /// Runs the network on log-mel features [T, n_mels]; returns motion at the native
    /// frame rate, [frames, channels]. Inputs too short for one encoder frame are padded
    /// with the log floor (silence) so every non-empty input yields at least one frame.
    public func motion(features: Tensor) throws -> Tensor {
        var features = features
        if encoder.outputLength(featureFrames: features.shape[0]) < 1 {
            let needed = config.encoder.convolutions.map(\.kernel).max() ?? 1
            let silence = logf(config.frontend.logFloor)
            features = Tensor(
                shape: [needed, features.shape[1]],
                data: features.data + [Float](repeating: silence, count: (needed - features.shape[0]) * features.shape[1]))
        }
        let frames = encoder.outputLength(featureFrames: features.shape[0])
        if config.encoder.positions == "learned", frames > config.encoder.maximumPositions {
            let seconds = Double(config.encoder.maximumPositions) / config.motion.fps
            throw KMTError.invalidAudio("audio too long for this model: \(frames) frames, the learned positions cover \(config.encoder.maximumPositions) (\(formatSeconds(seconds)) s)")
        }
        var motion = linear(encoder(features), weight: headWeight, bias: headBias)
        config.motion.activation.apply(&motion.data)
        return motion
    }
}
