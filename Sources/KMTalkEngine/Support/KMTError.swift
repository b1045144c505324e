import CKMTalk

/// An error inside the engine: a public status code plus a detailed message for the
/// host. Every exported C function catches these and turns them into a `kmt_status`
/// and the thread's last-error message.
struct KMTError: Error, CustomStringConvertible {
    /// The status code the C API returns for this error.
    let status: kmt_status
    /// The human-readable detail, naming the file or argument and the problem.
    let message: String

    /// Creates an error with a status and a detailed message.
    init(_ status: kmt_status, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }

    static func invalidArgument(_ message: String) -> KMTError {
        KMTError(KMT_ERR_INVALID_ARGUMENT, message)
    }
    static func corruptModel(_ message: String) -> KMTError {
        KMTError(KMT_ERR_CORRUPT_MODEL, message)
    }
    static func corruptRig(_ message: String) -> KMTError {
        KMTError(KMT_ERR_CORRUPT_RIG, message)
    }
    static func invalidAudio(_ message: String) -> KMTError {
        KMTError(KMT_ERR_INVALID_AUDIO, message)
    }
}
