/// The length unit of a rig's or a vertices-space model's positions and offsets.
enum RigUnits: String, Sendable, CaseIterable {
    case meters = "m"
    case centimeters = "cm"
    case millimeters = "mm"
}

/// What a model's output channels are (`config.motion.space`).
enum MotionSpace: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The 52 ARKit blendshape weights.
    case arkit
    /// Named weights of a rig's own shapes.
    case rig
    /// Offsets of a template mesh's vertices (v0.x, v0.y, v0.z, ...).
    case vertices

    /// The config spelling ("arkit", "rig", "vertices").
    var description: String { rawValue }
}

/// The motion space the model predicts (`config.motion`).
struct MotionConfig: Sendable, Equatable {
    /// ARKit weights, named rig channels or template-vertex offsets.
    var space: MotionSpace
    /// Output channel names, one per motion dimension.
    var channels: [String]
    /// Native frames per second (sample_rate / hop / total encoder stride).
    var fps: Double
    /// Activation applied to the head's output ("sigmoid" for weights in 0..1).
    var activation: Activation
    /// The length unit of a vertices-space model's template and offsets
    /// (`config.motion.units`, default metres); metres for the other spaces.
    var units: RigUnits = .meters

    /// Number of template vertices V of a vertices-space model (channels / 3); nil for the
    /// weight spaces.
    var vertexCount: Int? { space == .vertices ? channels.count / 3 : nil }
}
