/// An immutable animation result: `frames x channels` weights at `fps`, with channel
/// names. What `kmt_animation` points to.
public final class Animation: Sendable {
    /// Row-major [frames, channels].
    public let values: Tensor
    public let fps: Double
    /// Where the speech came from: the audio file's path, or nil for PCM input. Exports
    /// that carry provenance (JSON) write it.
    public let source: String?
    /// The model that produced the animation: its file path or "model buffer"; nil when
    /// unknown.
    public let model: String?
    let names: CStringTable

    public init(values: Tensor, fps: Double, channelNames: [String], source: String? = nil, model: String? = nil) {
        precondition(values.shape.count == 2 && values.shape[1] == channelNames.count)
        self.values = values
        self.fps = fps
        self.source = source
        self.model = model
        self.names = CStringTable(channelNames)
    }

    public var frameCount: Int { values.shape[0] }
    public var channelCount: Int { values.shape[1] }
    public var channelNames: [String] { names.strings }
}
