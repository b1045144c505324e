/// The length unit of a rig's or a vertices-space model's positions and offsets.
public enum RigUnits: String, Sendable, CaseIterable {
    case meters = "m"
    case centimeters = "cm"
    case millimeters = "mm"
}

/// The motion space the model predicts (`config.motion`).
public struct MotionConfig: Sendable, Equatable {
    /// "arkit" (52 ARKit weights), "rig" (named channels) or "vertices" (template offsets).
    public var space: String
    /// Output channel names, one per motion dimension.
    public var channels: [String]
    /// Native frames per second (sample_rate / hop / total encoder stride).
    public var fps: Double
    /// Activation applied to the head's output ("sigmoid" for weights in 0..1).
    public var activation: Activation
    /// The length unit of a vertices-space model's template and offsets
    /// (`config.motion.units`, default metres); metres for the other spaces.
    public var units: RigUnits = .meters

    /// Number of template vertices V of a vertices-space model (channels / 3); nil for the
    /// weight spaces.
    public var vertexCount: Int? { space == "vertices" ? channels.count / 3 : nil }
}
