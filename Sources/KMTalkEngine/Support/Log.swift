import CKMTalk
import Glibc

/// The process-wide log sink installed with `kmt_log_set`.
final class Log: @unchecked Sendable {
    /// The single logger of the library.
    static let shared = Log()

    private var mutex = pthread_mutex_t()
    private var callback: kmt_log_callback?
    private var minimumLevel: UInt32 = KMT_LOG_INFO.rawValue
    private var userData: UnsafeMutableRawPointer?

    private init() {
        pthread_mutex_init(&mutex, nil)
    }

    /// Replaces the callback (nil silences the library).
    func install(
        _ callback: kmt_log_callback?, minimumLevel: kmt_log_level,
        userData: UnsafeMutableRawPointer?
    ) {
        pthread_mutex_lock(&mutex)
        self.callback = callback
        self.minimumLevel = minimumLevel.rawValue
        self.userData = userData
        pthread_mutex_unlock(&mutex)
    }

    /// Delivers `message()` to the callback when one is installed and the level passes.
    func emit(_ level: kmt_log_level, _ message: @autoclosure () -> String) {
        pthread_mutex_lock(&mutex)
        let callback = self.callback
        let minimumLevel = self.minimumLevel
        let userData = self.userData
        pthread_mutex_unlock(&mutex)
        guard let callback, level.rawValue >= minimumLevel else { return }
        message().withCString { callback(level, $0, userData) }
    }

    static func info(_ message: @autoclosure () -> String) { shared.emit(KMT_LOG_INFO, message()) }
    static func debug(_ message: @autoclosure () -> String) { shared.emit(KMT_LOG_DEBUG, message()) }
    static func warning(_ message: @autoclosure () -> String) {
        shared.emit(KMT_LOG_WARNING, message())
    }
}
