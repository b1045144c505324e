/// An immutable animation result: `frames x channels` weights at `fps`, with channel
/// names. What `kmt_animation` points to.
///
/// An animation of a vertices-space model (docs/model.md) holds per-frame vertex offsets
/// (channels `v0.x, v0.y, v0.z, ...`) and carries the model's `template`, so it poses
/// into geometry without a rig (`AnimationMesh`).
final class Animation: Sendable {
    /// Row-major [frames, channels].
    let values: Tensor
    let fps: Double
    /// Where the speech came from: the audio file's path, or nil for PCM input. Exports
    /// that carry provenance (JSON) write it.
    let source: String?
    /// The model that produced the animation: its file path or "model buffer"; nil when
    /// unknown.
    let model: String?
    /// The template mesh the values are offsets from (vertices-space models); nil when the
    /// values are blendshape weights.
    let template: VertexTemplate?
    /// The phones the model recognized (key-motion models with a phone head; nil
    /// otherwise).
    let phones: PhoneTrack?
    /// The thresholds that turn these weights into mouth cues: the producing model's
    /// (`config.cues`), else `MouthCueThresholds.standard`.
    let mouthCueThresholds: MouthCueThresholds
    let names: CStringTable

    init(
        values: Tensor, fps: Double, channelNames: [String], source: String? = nil, model: String? = nil,
        phones: PhoneTrack? = nil, mouthCueThresholds: MouthCueThresholds = .standard
    ) {
        precondition(values.shape.count == 2 && values.shape[1] == channelNames.count)
        self.values = values
        self.fps = fps
        self.source = source
        self.model = model
        self.template = nil
        self.phones = phones
        self.mouthCueThresholds = mouthCueThresholds
        self.names = CStringTable(channelNames)
    }

    /// An animation of vertex offsets from `template`: `values` [frames, 3V], channels
    /// named `v0.x, v0.y, v0.z, ...`. Errors: KMT_ERR_INVALID_ARGUMENT when `values` is
    /// not [frames, 3V] for the template's V.
    init(
        values: Tensor, fps: Double, template: VertexTemplate, source: String? = nil, model: String? = nil,
        phones: PhoneTrack? = nil, mouthCueThresholds: MouthCueThresholds = .standard
    ) throws {
        guard values.shape.count == 2, values.shape[1] == template.vertexCount * 3 else {
            throw KMTError.invalidArgument("vertex offsets of shape \(values.shape) do not fit a template of \(template.vertexCount) vertices ([frames, \(template.vertexCount * 3)] expected)")
        }
        self.values = values
        self.fps = fps
        self.source = source
        self.model = model
        self.template = template
        self.phones = phones
        self.mouthCueThresholds = mouthCueThresholds
        self.names = CStringTable(VertexTemplate.channelNames(vertexCount: template.vertexCount))
    }

    var frameCount: Int { values.shape[0] }
    var channelCount: Int { values.shape[1] }
    var channelNames: [String] { names.strings }
}
