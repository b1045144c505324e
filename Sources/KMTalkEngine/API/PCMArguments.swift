import CKMTalk

/// The checks every PCM entry point (`kmt_animate_pcm`, `kmt_session_push_*`) makes on its
/// arguments, in one place so the same input gets the same status from every call:
/// a channel count outside 1..1024 is KMT_ERR_INVALID_ARGUMENT, a rate outside
/// 8000..192000 Hz KMT_ERR_INVALID_AUDIO (as for a file), a count that cannot be held
/// KMT_ERR_OUT_OF_MEMORY, a NULL buffer with frames KMT_ERR_INVALID_ARGUMENT.
enum PCMArguments {
    /// Validates one call's arguments; `frames` is a size_t seen as Int (above Int.max it
    /// arrives negative). `bufferName` names the sample pointer in messages.
    static func check(
        _ pcm: UnsafeRawPointer?, frames: Int, sampleRate: Int32, channels: Int32, bufferName: String, source: String
    ) throws {
        guard channels >= 1, channels <= 1024 else {
            throw KMTError.invalidArgument("channels must be 1..1024, got \(channels)")
        }
        guard MonoResamplingSink.supportedRates.contains(Int(sampleRate)) else {
            throw KMTError.invalidAudio("\(source): sample rate \(sampleRate) Hz is outside the supported 8000..192000 Hz")
        }
        let (total, overflow) = frames.multipliedReportingOverflow(by: Int(channels))
        guard frames >= 0, !overflow, total <= Int.max / 4 else {
            throw KMTError(KMT_ERR_OUT_OF_MEMORY, "\(source): \(UInt(bitPattern: frames)) frames x \(channels) channels is too large")
        }
        guard frames == 0 || pcm != nil else { throw KMTError.invalidArgument("\(bufferName) is NULL") }
    }
}
