import Glibc

/// Per-thread storage for the message that `kmt_last_error()` returns.
///
/// Each thread owns one malloc'd C string, replaced on every recorded error and freed
/// by the pthread key destructor when the thread exits.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in free(pointer) }
        precondition(rc == 0, "pthread_key_create failed")
        return key
    }()

    /// The empty message returned when no error has been recorded.
    nonisolated(unsafe) private static let empty: UnsafePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    /// Records `message` as this thread's last error.
    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        let copy = strdup(message)
        pthread_setspecific(key, copy)
        free(old)
    }

    /// Clears this thread's last error (called at the start of fallible calls).
    static func clear() {
        guard let old = pthread_getspecific(key) else { return }
        pthread_setspecific(key, nil)
        free(old)
    }

    /// This thread's last error message, or "" when there is none.
    static var current: UnsafePointer<CChar> {
        guard let value = pthread_getspecific(key) else { return empty }
        return UnsafePointer(value.assumingMemoryBound(to: CChar.self))
    }
}
