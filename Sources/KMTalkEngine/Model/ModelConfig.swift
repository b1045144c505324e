
/// The network families this engine runs (the file's `architecture` metadata).
enum Architecture: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Audio encoder and a linear head straight to the motion (the first format).
    case direct = "kmtalk-direct"
    /// Audio encoder, key motions at phone boundaries (LKMA) and completion (CMC).
    case kmtalk = "kmtalk"

    /// The metadata spelling ("kmtalk-direct", "kmtalk").
    var description: String { rawValue }
}

/// How the audio encoder gives its frames their positions (`config.encoder.positions`).
enum PositionEncoding: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Computed sine/cosine positions: any length.
    case sinusoidal
    /// A trained table (`encoder.positions`) of `max_positions` rows.
    case learned

    /// The config spelling ("sinusoidal", "learned").
    var description: String { rawValue }
}

/// One convolutional subsampling layer of the audio encoder.
struct ConvLayerConfig: Sendable, Equatable {
    var kernel: Int
    var stride: Int
    /// Output channels of the layer.
    var channels: Int
}

/// Hyper-parameters of the audio encoder (`config.encoder`).
struct EncoderConfig: Sendable, Equatable {
    /// Convolutional subsampling stack; the last layer's channels equal `width`.
    var convolutions: [ConvLayerConfig]
    /// Transformer width (model dimension).
    var width: Int
    var layers: Int
    var heads: Int
    /// Hidden width of each feed-forward block.
    var feedForwardWidth: Int
    /// Attention window: frames visible behind and ahead of each encoder frame.
    var band: AttentionBand?
    var positions: PositionEncoding
    /// Rows of the learned position table (learned positions only).
    var maximumPositions: Int
    var activation: Activation
    var layerNormEpsilon: Float

    /// Product of the convolution strides.
    var totalStride: Int { convolutions.reduce(1) { $0 * $1.stride } }
}

/// Linguistic key motion acquisition (`config.lkma`, architecture `kmtalk`).
struct LKMAConfig: Sendable, Equatable {
    /// The phone inventory the phone head classifies into.
    var phones: [String]
    /// Articulatory features the feature head predicts.
    var features: [String]
    var embeddingWidth: Int
    var hiddenWidth: Int
    /// KeyFrameLocator: boundary score threshold, minimum and maximum key-frame spacing.
    var keyThreshold: Float
    var minimumGap: Int
    var maximumGap: Int
}

/// Cross-modal motion completion (`config.cmc`, architecture `kmtalk`).
struct CMCConfig: Sendable, Equatable {
    var width: Int
    var layers: Int
    var heads: Int
    var feedForwardWidth: Int
    var band: AttentionBand
    /// False for the direct-regression baseline: every frame gets the mask token.
    var useKeys: Bool
    /// The shallow path (`cmc.shallow`, default false): a linear map from the encoder's
    /// conv features (before the positions) added to the head's logits.
    var shallow: Bool = false
    /// The loudness path (`cmc.loudness`, optional): each frame's relative loudness added
    /// to the CMC input and to the head's logits; nil without it.
    var loudness: LoudnessConfig?
}

/// The loudness path's settings (`config.cmc.loudness`, docs/model.md): the relative
/// loudness `f[t] = max(0, 1 + (e[t] - max(floor, peak of the last window frames)) / D)`.
struct LoudnessConfig: Sendable, Equatable {
    /// Native frames the running peak looks back over, the current one included (>= 1).
    var window: Int
    /// The range mapped to 0...1 below the peak, in dB (D = range_db ln(10) / 10).
    var rangeDecibels: Double
    /// The lowest peak, in the log-mel's units (ln of the total mel power).
    var floor: Double
}

/// Everything the engine needs to know about a model, parsed from safetensors metadata:
/// `format` = "kmtalk", `format_version` = "1", `architecture`, and `config` (a JSON
/// object with `frontend`, `encoder` and `motion`).
struct ModelConfig: Sendable {
    /// Architectures this version of the engine runs.
    static let supportedArchitectures = Architecture.allCases.map(\.rawValue)
    static let formatVersion = 1

    var architecture: Architecture
    var frontend: LogMelConfig
    var encoder: EncoderConfig
    var motion: MotionConfig
    /// LKMA settings (architecture `kmtalk` with key motions), else nil.
    var lkma: LKMAConfig?
    /// CMC settings (architecture `kmtalk`), else nil.
    var cmc: CMCConfig?
    /// The streaming latency a new session starts at when the model's full look-ahead is
    /// longer (`config.streaming.default_latency_ms`, optional: measured for this model by
    /// training/scripts/stream_quality.py and written by the exporter), in milliseconds.
    var streamingDefaultLatencyMs: Double?
    /// The thresholds that turn this model's ARKit weights into mouth cues
    /// (`config.cues`, optional: each key of `MouthCueThresholds.keys` overrides the
    /// standard value; written by the exporter).
    var mouthCueThresholds = MouthCueThresholds.standard

    /// Parses and validates the metadata of a model file.
    init(metadata: [(key: String, value: String)], source: String) throws {
        func value(_ key: String) -> String? { metadata.first { $0.key == key }?.value }
        func corrupt(_ detail: String) -> KMTError { .corruptModel("\(source): \(detail)") }
        guard let format = value("format") else {
            throw KMTError(.unsupportedFormat, "\(source): not a KMTalk model (no 'format' in __metadata__)")
        }
        guard format == "kmtalk" else {
            throw KMTError(.unsupportedFormat, "\(source): metadata format is '\(format)', expected 'kmtalk'")
        }
        guard let versionText = value("format_version"), let version = Int(versionText) else {
            throw corrupt("missing or non-integer format_version")
        }
        guard version == Self.formatVersion else {
            throw KMTError(.incompatibleModel, "\(source): format_version \(version) is not supported (this library reads \(Self.formatVersion))")
        }
        guard let architectureName = value("architecture") else { throw corrupt("missing architecture") }
        guard let architecture = Architecture(rawValue: architectureName) else {
            throw KMTError(.incompatibleModel, "\(source): architecture '\(architectureName)' is not supported by this library (supported: \(Self.supportedArchitectures.joined(separator: ", ")))")
        }
        guard let configText = value("config") else { throw corrupt("missing config") }
        let config: JSONValue
        do { config = try JSONParser.parse(configText) } catch { throw corrupt("config is not valid JSON: \(error)") }
        let reader = ConfigReader(root: config, source: source)

        let frontend = LogMelConfig(
            sampleRate: try reader.int("frontend", "sample_rate"),
            fftSize: try reader.int("frontend", "n_fft"),
            windowLength: try reader.int("frontend", "win_length"),
            hopLength: try reader.int("frontend", "hop_length"),
            melCount: try reader.int("frontend", "n_mels"),
            minFrequency: try reader.double("frontend", "f_min"),
            maxFrequency: try reader.double("frontend", "f_max"),
            logFloor: Float(try reader.double("frontend", "log_floor")))
        do { try frontend.validate() } catch let error as KMTError { throw corrupt(error.message) }

        guard let convValues = config["encoder"]?["conv"]?.arrayValue, !convValues.isEmpty else {
            throw corrupt("config.encoder.conv must be a non-empty array")
        }
        var convolutions: [ConvLayerConfig] = []
        for (index, item) in convValues.enumerated() {
            let layer = ConfigReader(root: item, source: source, prefix: "encoder.conv[\(index)]")
            let conv = ConvLayerConfig(
                kernel: try layer.int("kernel"), stride: try layer.int("stride"), channels: try layer.int("channels"))
            guard (1...31).contains(conv.kernel), (1...8).contains(conv.stride), (1...4096).contains(conv.channels) else {
                throw corrupt("encoder.conv[\(index)] kernel/stride/channels out of range")
            }
            convolutions.append(conv)
        }
        let band: AttentionBand?
        if config["encoder"]?["band_back"] == nil || config["encoder"]?["band_back"] == .null {
            band = nil
        } else {
            band = AttentionBand(back: try reader.int("encoder", "band_back"), ahead: try reader.int("encoder", "band_ahead"))
        }
        guard let activation = Activation(rawValue: try reader.string("encoder", "activation")) else {
            throw corrupt("encoder.activation must be one of gelu, silu, relu")
        }
        let positionsName = try reader.string("encoder", "positions")
        guard let positions = PositionEncoding(rawValue: positionsName) else {
            throw corrupt("encoder.positions must be 'sinusoidal' or 'learned'")
        }
        let encoder = EncoderConfig(
            convolutions: convolutions,
            width: try reader.int("encoder", "width"),
            layers: try reader.int("encoder", "layers"),
            heads: try reader.int("encoder", "heads"),
            feedForwardWidth: try reader.int("encoder", "ffn_width"),
            band: band,
            positions: positions,
            maximumPositions: config["encoder"]?["max_positions"]?.integerValue ?? 0,
            activation: activation,
            layerNormEpsilon: Float(try reader.double("encoder", "layer_norm_eps")))
        guard (1...4096).contains(encoder.width), (0...64).contains(encoder.layers),
            encoder.heads >= 1, encoder.width % encoder.heads == 0,
            (1...65536).contains(encoder.feedForwardWidth)
        else { throw corrupt("encoder width/layers/heads/ffn_width out of range (width must divide by heads)") }
        guard convolutions.last!.channels == encoder.width else {
            throw corrupt("the last encoder.conv layer must have width (\(encoder.width)) channels")
        }
        if let band, band.back < 0 || band.ahead < 0 {
            throw corrupt("encoder band_back and band_ahead must be >= 0")
        }
        if encoder.positions == .learned, encoder.maximumPositions < 1 {
            throw corrupt("learned positions need encoder.max_positions >= 1")
        }

        let spaceName = try reader.string("motion", "space")
        guard let space = MotionSpace(rawValue: spaceName) else {
            throw corrupt("motion.space '\(spaceName)' must be arkit, rig or vertices")
        }
        guard let channelValues = config["motion"]?["channels"]?.arrayValue, !channelValues.isEmpty else {
            throw corrupt("motion.channels must be a non-empty array of names")
        }
        let channels = try channelValues.map { item -> String in
            guard let name = item.stringValue, !name.isEmpty else { throw corrupt("motion.channels holds a non-string or empty name") }
            return name
        }
        guard Set(channels).count == channels.count else { throw corrupt("motion.channels has duplicate names") }
        if space == .arkit, Set(channels) != Set(ARKitChannels.names) {
            throw corrupt("motion.space 'arkit' needs exactly the 52 ARKit channel names")
        }
        var units = RigUnits.meters
        if space == .vertices {
            if let problem = VertexTemplate.channelNameProblem(channels) { throw corrupt(problem) }
            if let unitsValue = config["motion"]?["units"] {
                guard let text = unitsValue.stringValue, let parsed = RigUnits(rawValue: text) else {
                    throw corrupt("motion.units must be \"m\", \"cm\" or \"mm\"")
                }
                units = parsed
            }
        } else if config["motion"]?["units"] != nil {
            throw corrupt("motion.units belongs to motion.space 'vertices' only (this model's space is '\(space)')")
        }
        guard let motionActivation = Activation(rawValue: try reader.string("motion", "activation")) else {
            throw corrupt("motion.activation must be sigmoid or identity")
        }
        let fps = try reader.double("motion", "fps")
        let expectedFps = Double(frontend.sampleRate) / Double(frontend.hopLength) / Double(encoder.totalStride)
        guard abs(fps - expectedFps) < 1e-6 * expectedFps else {
            throw corrupt("motion.fps \(fps) disagrees with sample_rate / hop_length / stride = \(expectedFps)")
        }

        self.architecture = architecture
        self.frontend = frontend
        self.encoder = encoder
        self.motion = MotionConfig(space: space, channels: channels, fps: fps, activation: motionActivation, units: units)
        if let streaming = config["streaming"], streaming != .null {
            let latency = try ConfigReader(root: streaming, source: source, prefix: "streaming").double("default_latency_ms")
            guard (20...10_000).contains(latency) else {
                throw corrupt("config.streaming.default_latency_ms must be 20..10000 ms, got \(latency)")
            }
            streamingDefaultLatencyMs = latency
        }
        if let cues = config["cues"], cues != .null {
            guard case let .object(members) = cues else { throw corrupt("config.cues must be an object of thresholds") }
            var overrides: [(key: String, value: Double)] = []
            for (key, value) in members {
                guard let number = value.doubleValue else { throw corrupt("config.cues.\(key) must be a number") }
                overrides.append((key, number))
            }
            do {
                mouthCueThresholds = try MouthCueThresholds(overrides: overrides)
            } catch let error as KMTError {
                throw corrupt("config.cues: \(error.message)")
            }
            guard space != .vertices else {
                throw corrupt("config.cues belongs to blendshape-weight models (this model's motion.space is 'vertices')")
            }
        }
        guard architecture == .kmtalk else { return }

        var cmc = CMCConfig(
            width: try reader.int("cmc", "width"), layers: try reader.int("cmc", "layers"),
            heads: try reader.int("cmc", "heads"), feedForwardWidth: try reader.int("cmc", "ffn_width"),
            band: AttentionBand(back: try reader.int("cmc", "band_back"), ahead: try reader.int("cmc", "band_ahead")),
            useKeys: config["cmc"]?["use_keys"] == .bool(true), shallow: config["cmc"]?["shallow"] == .bool(true))
        guard (1...4096).contains(cmc.width), (0...64).contains(cmc.layers), cmc.heads >= 1, cmc.width % cmc.heads == 0,
            (1...65536).contains(cmc.feedForwardWidth), cmc.band.back >= 0, cmc.band.ahead >= 0
        else { throw corrupt("cmc width/layers/heads/ffn_width/band out of range (width must divide by heads)") }
        guard case .bool = config["cmc"]?["use_keys"] ?? .null else { throw corrupt("config.cmc.use_keys must be a boolean") }
        if let shallow = config["cmc"]?["shallow"], shallow != .bool(true), shallow != .bool(false) {
            throw corrupt("config.cmc.shallow must be a boolean")
        }
        if let loudness = config["cmc"]?["loudness"], loudness != .null {
            guard case .object = loudness else { throw corrupt("config.cmc.loudness must be an object") }
            let settings = LoudnessConfig(
                window: try reader.int("cmc", "loudness", "window"),
                rangeDecibels: try reader.double("cmc", "loudness", "range_db"),
                floor: try reader.double("cmc", "loudness", "floor"))
            guard (1...100_000).contains(settings.window), settings.rangeDecibels > 0, settings.rangeDecibels <= 1_000,
                abs(settings.floor) <= 1_000
            else { throw corrupt("config.cmc.loudness: window (1...100000), range_db (0...1000] or floor (+-1000) out of range") }
            cmc.loudness = settings
        }
        self.cmc = cmc
        guard cmc.useKeys else { return }
        func names(_ key: String) throws -> [String] {
            guard let values = config["lkma"]?[key]?.arrayValue, !values.isEmpty else {
                throw corrupt("config.lkma.\(key) must be a non-empty array of names")
            }
            return try values.map {
                guard let name = $0.stringValue else { throw corrupt("config.lkma.\(key) holds a non-string") }
                return name
            }
        }
        let lkma = LKMAConfig(
            phones: try names("phones"), features: try names("features"),
            embeddingWidth: try reader.int("lkma", "embedding_width"), hiddenWidth: try reader.int("lkma", "hidden_width"),
            keyThreshold: Float(try reader.double("lkma", "key_threshold")),
            minimumGap: try reader.int("lkma", "min_gap"), maximumGap: try reader.int("lkma", "max_gap"))
        guard (1...4096).contains(lkma.embeddingWidth), (1...65536).contains(lkma.hiddenWidth),
            lkma.minimumGap >= 1, lkma.maximumGap >= lkma.minimumGap, (0...1).contains(lkma.keyThreshold)
        else { throw corrupt("lkma widths, gaps (1 <= min_gap <= max_gap) or key_threshold (0..1) out of range") }
        self.lkma = lkma
    }
}

/// Reads typed fields from the config JSON with precise errors.
struct ConfigReader {
    let root: JSONValue
    let source: String
    var prefix: String = ""

    private func lookup(_ path: [String]) throws -> JSONValue {
        var node = root
        for key in path {
            guard let next = node[key] else {
                throw KMTError.corruptModel("\(source): config.\(fullName(path)) is missing")
            }
            node = next
        }
        return node
    }

    private func fullName(_ path: [String]) -> String {
        (prefix.isEmpty ? [] : [prefix]).joined() + (prefix.isEmpty ? "" : ".") + path.joined(separator: ".")
    }

    func int(_ path: String...) throws -> Int {
        guard let value = try lookup(path).integerValue else {
            throw KMTError.corruptModel("\(source): config.\(fullName(path)) must be an integer")
        }
        return value
    }

    func double(_ path: String...) throws -> Double {
        guard let value = try lookup(path).doubleValue, value.isFinite else {
            throw KMTError.corruptModel("\(source): config.\(fullName(path)) must be a number")
        }
        return value
    }

    func string(_ path: String...) throws -> String {
        guard let value = try lookup(path).stringValue else {
            throw KMTError.corruptModel("\(source): config.\(fullName(path)) must be a string")
        }
        return value
    }
}
