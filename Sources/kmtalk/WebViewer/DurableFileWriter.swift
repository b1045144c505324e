import Foundation
import Glibc

/// Writes a file the way the library's exports do (docs/export.md): the bytes go to a
/// temporary file beside the target (`.NAME.kmtalk-PID-RANDOM.tmp`, the library's pattern,
/// so a later export into the folder removes one a killed process left), which is flushed
/// to disk and renamed over the target; then the folder is flushed. A failure leaves no
/// partial file and an existing target as it was.
enum DurableFileWriter {
    /// Writes `bytes` to `path`. Errors: a `CLIError` "PATH: cannot write (reason)".
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = FFmpegSink.temporaryPath(beside: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(path, errno) }
        var written = 0
        var problem: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    problem = errno
                    return
                }
                written += count
            }
        }
        if problem == 0, fsync(descriptor) != 0 { problem = errno }
        if close(descriptor) != 0, problem == 0 { problem = errno }
        if problem == 0, rename(temporary, path) != 0 { problem = errno }
        guard problem == 0 else {
            unlink(temporary)
            throw failure(path, problem)
        }
        FFmpegSink.syncDirectory(of: path)
    }

    private static func failure(_ path: String, _ code: Int32) -> CLIError {
        CLIError("\(path): cannot write (\(String(cString: strerror(code))))")
    }
}
