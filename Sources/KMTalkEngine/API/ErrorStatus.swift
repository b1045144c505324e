import CKMTalk

/// The C API's view of engine errors: each `ErrorKind` is one `kmt_status`.
extension ErrorKind {
    /// The status code the C API returns for this kind.
    var status: kmt_status {
        switch self {
        case .invalidArgument: return KMT_ERR_INVALID_ARGUMENT
        case .io: return KMT_ERR_IO
        case .unsupportedFormat: return KMT_ERR_UNSUPPORTED_FORMAT
        case .invalidAudio: return KMT_ERR_INVALID_AUDIO
        case .corruptModel: return KMT_ERR_CORRUPT_MODEL
        case .incompatibleModel: return KMT_ERR_INCOMPATIBLE_MODEL
        case .outOfMemory: return KMT_ERR_OUT_OF_MEMORY
        case .bufferTooSmall: return KMT_ERR_BUFFER_TOO_SMALL
        case .internal: return KMT_ERR_INTERNAL
        case .corruptRig: return KMT_ERR_CORRUPT_RIG
        case .cancelled: return KMT_ERR_CANCELLED
        }
    }

    /// The kind the C API's `status` stands for (a failure status; KMT_OK has none).
    init?(status: kmt_status) {
        guard let kind = ErrorKind.allCases.first(where: { $0.status == status }) else { return nil }
        self = kind
    }
}

extension KMTError {
    /// The status code the C API returns for this error.
    var status: kmt_status { kind.status }

    /// An error from a C status (for the API layer and tests; other layers use kinds).
    init(_ status: kmt_status, _ message: String) {
        self.init(ErrorKind(status: status) ?? .internal, message)
    }
}
