import CSndFile
import Glibc

/// Lets libsndfile read an audio file held in memory (`sf_open_virtual`): the bytes are
/// borrowed for the duration of one decode, never copied or written.
final class MemoryAudioReader {
    /// The caller's bytes, valid while the decode runs.
    let bytes: UnsafeRawBufferPointer
    /// The read position libsndfile sees.
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The reader behind libsndfile's user data pointer.
    static func from(_ userData: UnsafeMutableRawPointer?) -> MemoryAudioReader {
        Unmanaged<MemoryAudioReader>.fromOpaque(userData!).takeUnretainedValue()
    }

    /// libsndfile's callbacks over a `MemoryAudioReader` (user data); writing is refused.
    static let callbacks = SF_VIRTUAL_IO(
        get_filelen: { userData in sf_count_t(from(userData).bytes.count) },
        seek: { offset, whence, userData in
            let reader = from(userData)
            let base: Int
            switch whence {
            case SEEK_CUR: base = reader.position
            case SEEK_END: base = reader.bytes.count
            default: base = 0
            }
            let (target, overflow) = base.addingReportingOverflow(Int(offset))
            guard !overflow, target >= 0 else { return -1 }
            reader.position = target
            return sf_count_t(target)
        },
        read: { destination, count, userData in
            let reader = from(userData)
            guard let destination, count > 0, reader.position < reader.bytes.count else { return 0 }
            let length = min(Int(count), reader.bytes.count - reader.position)
            destination.copyMemory(from: reader.bytes.baseAddress! + reader.position, byteCount: length)
            reader.position += length
            return sf_count_t(length)
        },
        write: { _, _, _ in 0 },
        tell: { userData in sf_count_t(from(userData).position) })
}

extension AudioDecoder {
    /// The name memory input goes by in messages.
    static let memorySource = "audio in memory"

    /// Decodes an audio file held in `bytes` (any format libsndfile reads, as for
    /// `decode(path:...)`), mixes it to mono and resamples it to `targetRate` (nil: its
    /// own rate). `progress` as for `decode(path:...)`. The bytes are read during the call
    /// only.
    static func decode(
        bytes: UnsafeRawBufferPointer, targetRate: Int?, nonfinitePolicy: NonFinitePolicy = .reject,
        progress: ((Double) throws -> Void)? = nil
    ) throws -> Decoded {
        let source = memorySource
        guard bytes.count > 0, bytes.baseAddress != nil else {
            throw KMTError.invalidAudio("\(source): empty buffer (0 bytes)")
        }
        let reader = MemoryAudioReader(bytes)
        var callbacks = MemoryAudioReader.callbacks
        // The reader lives until the file is closed: libsndfile calls back into it until then.
        return try withExtendedLifetime(reader) {
            var info = SF_INFO()
            guard let file = sf_open_virtual(&callbacks, Int32(SFM_READ), &info, Unmanaged.passUnretained(reader).toOpaque()) else {
                throw openError(source: source, hint: containerHint(head: Array(bytes.prefix(12)), name: nil))
            }
            defer { sf_close(file) }
            return try decode(
                file: file, info: info, source: source, targetRate: targetRate, nonfinitePolicy: nonfinitePolicy,
                consumer: nil, progress: progress)
        }
    }
}
