/// An immutable animation result: `frames x channels` weights at `fps`, with channel
/// names. What `kmt_animation` points to.
public final class Animation: Sendable {
    /// Row-major [frames, channels].
    public let values: Tensor
    public let fps: Double
    let names: CStringTable

    public init(values: Tensor, fps: Double, channelNames: [String]) {
        precondition(values.shape.count == 2 && values.shape[1] == channelNames.count)
        self.values = values
        self.fps = fps
        self.names = CStringTable(channelNames)
    }

    public var frameCount: Int { values.shape[0] }
    public var channelCount: Int { values.shape[1] }
    public var channelNames: [String] { names.strings }
}
