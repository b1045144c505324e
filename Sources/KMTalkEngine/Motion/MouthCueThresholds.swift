/// The numbers by which ARKit mouth weights become Rhubarb mouth shapes (the rules of
/// `MouthShapeClassifier`, docs/export.md). They belong to the model whose output they
/// read, so a model file may carry its own (`config.cues`, written by the exporter from
/// training/scripts/cue_quality.py); a model without them gets `standard`.
struct MouthCueThresholds: Sendable, Equatable {
    /// Largest mouth/jaw weight of a mouth at rest (`rest_max`).
    var restMax: Float = 0.1
    /// Largest `jawOpen - mouthClose` of closed lips (`closed_aperture`; metrics.py
    /// `CLOSED_APERTURE`).
    var closedAperture: Float = 0.05
    /// Smallest `mouthPress*` or `mouthClose` that shows the lips touching (`contact_min`).
    var contactMin: Float = 0.1
    /// Smallest roll of a lip rolled in, both for A, the lower one for G (`rolled_min`).
    var rolledMin: Float = 0.2
    /// How much more the lower lip must roll than the upper one for G (`tuck_margin`).
    var tuckMargin: Float = 0.1
    /// Smallest `tongueOut` of H (`tongue_min`).
    var tongueMin: Float = 0.2
    /// Smallest rounding of F (`pucker_min`).
    var puckerMin: Float = 0.35
    /// Largest `jawOpen / rounding` of F; above it the rounded mouth is E (`pucker_jaw_ratio`).
    var puckerJawRatio: Float = 0.75
    /// Smallest rounding of E (`rounded_min`).
    var roundedMin: Float = 0.22
    /// Smallest opening of D (`wide_open_min`).
    var wideOpenMin: Float = 0.4
    /// Smallest opening of C (`open_min`).
    var openMin: Float = 0.2
    /// Smallest opening or spread of B (`parted_min`).
    var partedMin: Float = 0.1

    /// The engine's own thresholds: fit on kmtalk-base v1's output, and they still separate
    /// full-range ARKit capture.
    static let standard = MouthCueThresholds()

    /// The keys of a model's `config.cues` object, one per threshold.
    static let keys = [
        "rest_max", "closed_aperture", "contact_min", "rolled_min", "tuck_margin", "tongue_min", "pucker_min",
        "pucker_jaw_ratio", "rounded_min", "wide_open_min", "open_min", "parted_min",
    ]

    /// The field of `key` (one of `keys`); nil for an unknown key.
    static func field(_ key: String) -> WritableKeyPath<MouthCueThresholds, Float>? {
        switch key {
        case "rest_max": \.restMax
        case "closed_aperture": \.closedAperture
        case "contact_min": \.contactMin
        case "rolled_min": \.rolledMin
        case "tuck_margin": \.tuckMargin
        case "tongue_min": \.tongueMin
        case "pucker_min": \.puckerMin
        case "pucker_jaw_ratio": \.puckerJawRatio
        case "rounded_min": \.roundedMin
        case "wide_open_min": \.wideOpenMin
        case "open_min": \.openMin
        case "parted_min": \.partedMin
        default: nil
        }
    }

    /// The threshold of `key` (one of `keys`); nil for an unknown key.
    subscript(key: String) -> Float? {
        Self.field(key).map { self[keyPath: $0] }
    }

    /// The standard thresholds with `overrides` (a key of `keys` -> value) applied.
    /// Errors: KMT_ERR_INVALID_ARGUMENT naming the key, for an unknown key or a value outside
    /// 0...4 (weights and their sums; the ratio is a ratio of weights), or when the opening
    /// thresholds are not ordered `parted_min <= open_min <= wide_open_min`.
    init(overrides: [(key: String, value: Double)]) throws {
        for (key, value) in overrides {
            guard let field = Self.field(key) else {
                throw KMTError.invalidArgument("unknown key '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
            }
            guard value.isFinite, (0...4).contains(value) else {
                throw KMTError.invalidArgument("'\(key)' must be a number in 0...4, got \(value)")
            }
            self[keyPath: field] = Float(value)
        }
        guard partedMin <= openMin, openMin <= wideOpenMin else {
            throw KMTError.invalidArgument("parted_min <= open_min <= wide_open_min does not hold (\(partedMin), \(openMin), \(wideOpenMin))")
        }
    }

    /// The standard thresholds.
    init() {}
}
