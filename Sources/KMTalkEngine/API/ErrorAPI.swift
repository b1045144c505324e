import CKMTalk

/// Static descriptions of the status codes.
private let statusDescriptions: [StaticString] = [
    "ok", "invalid argument", "I/O error", "unsupported format", "invalid audio",
    "corrupt model", "incompatible model", "out of memory", "buffer too small", "internal error",
    "corrupt rig",
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
    Log.shared.install(callback, minimumLevel: minimumLevel, userData: userData)
}
