import Glibc

/// C strings handed out for the library's lifetime, one per distinct text: for names from
/// a small fixed set (stage names) that the C API returns as `const char *` without an
/// owner object. Never shrinks; callers intern only names from fixed sets.
enum InternedCStrings {
    nonisolated(unsafe) private static var table: [String: UnsafeMutablePointer<CChar>] = [:]
    nonisolated(unsafe) private static var mutex: pthread_mutex_t = {
        var mutex = pthread_mutex_t()
        pthread_mutex_init(&mutex, nil)
        return mutex
    }()

    /// The process-lifetime C string for `text`.
    static func pointer(for text: String) -> UnsafePointer<CChar> {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let existing = table[text] { return UnsafePointer(existing) }
        let copy = strdup(text)!
        table[text] = copy
        return UnsafePointer(copy)
    }
}
