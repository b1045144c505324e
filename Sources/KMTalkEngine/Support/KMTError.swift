/// What went wrong, in the engine's own terms; the API layer maps each kind to the C
/// API's `kmt_status` (API/ErrorStatus.swift), so no layer below it uses a C type.
enum ErrorKind: Sendable, CaseIterable {
    case invalidArgument
    case io
    case unsupportedFormat
    case invalidAudio
    case corruptModel
    case incompatibleModel
    case outOfMemory
    case bufferTooSmall
    case `internal`
    case corruptRig
    case cancelled
}

/// An error inside the engine: its kind plus a detailed message for the host. Every
/// exported C function catches these and turns them into a `kmt_status` and the thread's
/// last-error message.
struct KMTError: Error, CustomStringConvertible {
    /// The kind of failure (the API maps it to a status code).
    let kind: ErrorKind
    /// The human-readable detail, naming the file or argument and the problem.
    let message: String

    /// Creates an error with a kind and a detailed message.
    init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    var description: String { message }

    static func invalidArgument(_ message: String) -> KMTError {
        KMTError(.invalidArgument, message)
    }
    static func corruptModel(_ message: String) -> KMTError {
        KMTError(.corruptModel, message)
    }
    static func corruptRig(_ message: String) -> KMTError {
        KMTError(.corruptRig, message)
    }
    static func invalidAudio(_ message: String) -> KMTError {
        KMTError(.invalidAudio, message)
    }
}
