import CKMTalk

/// Static descriptions of the status codes.
private let statusDescriptions: [StaticString] = [
    "ok", "invalid argument", "I/O error", "unsupported format", "invalid audio",
    "corrupt model", "incompatible model", "out of memory", "buffer too small", "internal error",
    "corrupt rig", "cancelled",
]
private let unknownStatus: StaticString = "unknown status"

/// Implements `kmt_status_string` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_status_string(_ status: kmt_status) -> UnsafePointer<CChar>? {
    let index = Int(status.rawValue)
    let text = index < statusDescriptions.count ? statusDescriptions[index] : unknownStatus
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Implements `kmt_last_error` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_last_error() -> UnsafePointer<CChar>? {
    LastError.current
}

/// Implements `kmt_log_set` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_log_set(_ callback: kmt_log_callback?, _ minimumLevel: kmt_log_level, _ userData: UnsafeMutableRawPointer?) {
    // A minimum above KMT_LOG_ERROR lets nothing through.
    guard let callback, let level = LogLevel(rawValue: minimumLevel.rawValue) else {
        Log.shared.install(nil, minimumLevel: .info)
        return
    }
    // The host promises the user data may be used from any thread (include/kmtalk.h).
    nonisolated(unsafe) let data = userData
    Log.shared.install({ level, message in
        message.withCString { callback(kmt_log_level(rawValue: level.rawValue), $0, data) }
    }, minimumLevel: level)
}
