/// Decoded mono audio that outlives its decoding: the object behind a `kmt_audio` handle.
/// The samples sit in one allocation that never moves, so the C API can hand out a
/// pointer to them that stays valid as long as the clip. Immutable, so any thread may
/// read it.
final class AudioClip: @unchecked Sendable {
    /// The mono samples at `sampleRate`.
    let samples: UnsafeBufferPointer<Float>
    /// The rate of `samples` in Hz.
    let sampleRate: Int
    /// The file's own rate and channel count, and the frames it held.
    let sourceRate: Int
    let sourceChannels: Int
    let sourceFrames: Int
    /// libsndfile's name for the container and encoding, NUL-terminated for the C API.
    let formatNameTable: CStringTable
    /// The allocation behind `samples` (at least one element).
    private let storage: UnsafeMutableBufferPointer<Float>

    /// Keeps what `decoded` holds (its samples are copied once into the clip's storage).
    init(_ decoded: AudioDecoder.Decoded) {
        storage = .allocate(capacity: max(1, decoded.samples.count))
        storage.initialize(repeating: 0)
        _ = storage.update(fromContentsOf: decoded.samples)
        samples = UnsafeBufferPointer(start: storage.baseAddress, count: decoded.samples.count)
        sampleRate = decoded.sampleRate
        sourceRate = decoded.sourceRate
        sourceChannels = decoded.sourceChannels
        sourceFrames = decoded.sourceFrames
        formatNameTable = CStringTable([decoded.formatName])
    }

    deinit {
        storage.deallocate()
    }

    /// libsndfile's name for the container and encoding.
    var formatName: String { formatNameTable.strings[0] }
}
