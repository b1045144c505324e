import Glibc
import Synchronization

/// The file-system steps that make an export survive `kill -9` and power loss: files are
/// written under temporary names that carry the writer's process id, flushed to disk
/// (`fsync`) before they are renamed into place, and the directory is flushed after the
/// renames. What a killed writer leaves behind (temporary files, staged sequences) is
/// cleaned up by the next export into the same directory: discarded when it was not
/// complete, finished when it was (see `SequenceFileSet`).
enum DurableFile {
    /// The marker every temporary name carries: `.NAME.kmtalk-PID-RANDOM.KIND`.
    static let marker = ".kmtalk-"

    /// A new temporary name beside `name` in `directory` ("" or ending in "/").
    static func temporaryPath(directory: String, name: String, kind: String) -> String {
        directory + "." + name + marker + String(getpid()) + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + "." + kind
    }

    /// Creates `path` (which must not exist), writes `bytes` and flushes them to disk.
    /// Errors: KMT_ERR_IO naming `label`; a partial file is removed.
    static func write(_ bytes: [UInt8], to path: String, label: String) throws {
        func failure(_ detail: String) -> KMTError { KMTError(.io, "\(label): cannot write (\(detail))") }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure(errorText()) }
        var written = 0
        var writeError: String?
        bytes.withUnsafeBytes { raw in
            guard let start = raw.baseAddress else { return }
            while written < raw.count {
                let result = Glibc.write(descriptor, start + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    writeError = errorText()
                    return
                }
                written += result
            }
        }
        if writeError == nil, fsync(descriptor) != 0 { writeError = errorText() }
        if close(descriptor) != 0, writeError == nil { writeError = errorText() }
        if let writeError {
            unlink(path)
            throw failure(writeError)
        }
    }

    /// Flushes the entries of `directory` ("" for the current one) to disk; best effort
    /// (some file systems refuse fsync on a directory).
    static func syncDirectory(_ directory: String) {
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// The directory part of `path` with its trailing slash ("" for a bare name) and the
    /// file name.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// Directories this process has already cleaned: a batch of exports into one folder
    /// lists it once, not once per file.
    private static let cleaned = Mutex<Set<String>>([])

    /// Cleans what killed writers left in `directory` ("" or ending in "/"), once per
    /// process and directory: temporary files and incomplete staged sequences of processes
    /// that no longer run are removed, complete ones are finished. Best effort: a folder
    /// that cannot be listed is left alone (the export itself reports the problem).
    static func recoverLeftovers(in directory: String) {
        let key = directory.isEmpty ? "./" : directory
        guard cleaned.withLock({ $0.insert(key).inserted }) else { return }
        guard let names = try? DirectoryListing.names(in: key) else { return }
        for name in names where name.hasPrefix(".") {
            guard let (pid, kind) = owner(of: name), !isRunning(pid) else { continue }
            let path = directory + name
            switch kind {
            case "tmp": unlink(path)
            case SequenceFileSet.stagingKind: removeTree(path)
            case SequenceFileSet.committedKind: SequenceFileSet.finishCommitted(path, directory: directory)
            default: continue
            }
        }
        syncDirectory(directory)
    }

    /// The writer's process id and the kind of a temporary name, or nil for other names.
    static func owner(of name: String) -> (pid: Int32, kind: String)? {
        guard let range = name.firstRange(of: marker), let dot = name.lastIndex(of: "."), dot > range.upperBound else { return nil }
        let fields = name[range.upperBound..<dot].split(separator: "-")
        guard fields.count == 2, let pid = Int32(fields[0]), pid > 0, UInt64(fields[1], radix: 16) != nil else { return nil }
        return (pid, String(name[name.index(after: dot)...]))
    }

    /// Whether process `pid` exists (a process of another user counts as running).
    static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Removes a staging folder and the files in it (it holds no subfolders).
    static func removeTree(_ path: String) {
        for name in (try? DirectoryListing.names(in: path)) ?? [] { unlink(path + "/" + name) }
        rmdir(path)
    }

    /// `strerror(errno)`.
    static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
