import Glibc

/// How severe a log message is (the API maps it onto `kmt_log_level`).
enum LogLevel: UInt32, Sendable {
    case debug = 0
    case info = 1
    case warning = 2
    case error = 3
}

/// The process-wide log sink the host installs (`kmt_log_set`, which wraps its C callback
/// in `Log.Sink`).
final class Log: @unchecked Sendable {
    /// Receives each message that passes the level.
    typealias Sink = @Sendable (LogLevel, String) -> Void

    /// The single logger of the library.
    static let shared = Log()

    private var mutex = pthread_mutex_t()
    private var sink: Sink?
    private var minimumLevel = LogLevel.info

    private init() {
        pthread_mutex_init(&mutex, nil)
    }

    /// Replaces the sink (nil silences the library).
    func install(_ sink: Sink?, minimumLevel: LogLevel) {
        pthread_mutex_lock(&mutex)
        self.sink = sink
        self.minimumLevel = minimumLevel
        pthread_mutex_unlock(&mutex)
    }

    /// Delivers `message()` to the sink when one is installed and the level passes.
    func emit(_ level: LogLevel, _ message: @autoclosure () -> String) {
        pthread_mutex_lock(&mutex)
        let sink = self.sink
        let minimumLevel = self.minimumLevel
        pthread_mutex_unlock(&mutex)
        guard let sink, level.rawValue >= minimumLevel.rawValue else { return }
        sink(level, message())
    }

    static func info(_ message: @autoclosure () -> String) { shared.emit(.info, message()) }
    static func debug(_ message: @autoclosure () -> String) { shared.emit(.debug, message()) }
    static func warning(_ message: @autoclosure () -> String) { shared.emit(.warning, message()) }
}
