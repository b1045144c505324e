/// The length unit of a rig's or a vertices-space model's positions and offsets.
public enum RigUnits: String, Sendable, CaseIterable {
    case meters = "m"
    case centimeters = "cm"
    case millimeters = "mm"
}

/// What a model's output channels are (`config.motion.space`).
public enum MotionSpace: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The 52 ARKit blendshape weights.
    case arkit
    /// Named weights of a rig's own shapes.
    case rig
    /// Offsets of a template mesh's vertices (v0.x, v0.y, v0.z, ...).
    case vertices

    /// The config spelling ("arkit", "rig", "vertices").
    public var description: String { rawValue }
}

/// The motion space the model predicts (`config.motion`).
public struct MotionConfig: Sendable, Equatable {
    /// ARKit weights, named rig channels or template-vertex offsets.
    public var space: MotionSpace
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
    public var vertexCount: Int? { space == .vertices ? channels.count / 3 : nil }
}
