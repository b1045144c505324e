import CKMTalk
import Glibc

/// Writes one or more files so that no reader, and no failure, ever leaves a partial
/// one: each file's bytes go to a new temporary file beside it (same directory, so the
/// rename is atomic), and only once every file is staged are they renamed into place.
/// A failure before `commit` removes the temporary files and leaves existing files as
/// they were. Permissions follow the umask, as for any newly created file.
struct AtomicFileSet {
    /// Staged files: the temporary name and the final one.
    private var staged: [(temporary: String, final: String)] = []

    /// The final paths staged so far, in order.
    var paths: [String] { staged.map(\.final) }

    /// Writes `bytes` to a temporary file beside `path`. Errors: KMT_ERR_IO naming `path`
    /// (missing directory, no permission, a directory in the way, a full disk).
    mutating func stage(_ bytes: [UInt8], at path: String) throws {
        func failure(_ detail: String) -> KMTError { KMTError(KMT_ERR_IO, "\(path): cannot write (\(detail))") }
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { throw failure("is a directory") }
        let (directory, name) = Self.split(path)
        var temporary = ""
        var descriptor: Int32 = -1
        for _ in 0..<8 {
            temporary = directory + "." + name + ".kmtalk-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw failure(Self.errorText()) }
        var written = 0
        var writeError: String?
        bytes.withUnsafeBytes { raw in
            guard let start = raw.baseAddress else { return }
            while written < raw.count {
                let result = write(descriptor, start + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    writeError = Self.errorText()
                    return
                }
                written += result
            }
        }
        if close(descriptor) != 0, writeError == nil { writeError = Self.errorText() }
        if let writeError {
            unlink(temporary)
            throw failure(writeError)
        }
        staged.append((temporary, path))
    }

    /// Renames every staged file into place. Errors: KMT_ERR_IO; the files not yet renamed
    /// are removed.
    mutating func commit() throws {
        defer { staged = [] }
        for (index, file) in staged.enumerated() where rename(file.temporary, file.final) != 0 {
            let detail = Self.errorText()
            for rest in staged[index...] { unlink(rest.temporary) }
            throw KMTError(KMT_ERR_IO, "\(file.final): cannot write (\(detail))")
        }
    }

    /// Removes every staged temporary file (after a failure).
    mutating func discard() {
        for file in staged { unlink(file.temporary) }
        staged = []
    }

    /// The directory part of `path` with its trailing slash ("" for a bare name) and the
    /// file name.
    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// `strerror(errno)`.
    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
