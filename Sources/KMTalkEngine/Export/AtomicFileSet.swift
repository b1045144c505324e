import Glibc

/// Writes one or more files so that no reader, and no failure, ever leaves a partial
/// one: each file's bytes go to a new temporary file beside it (same directory, so the
/// rename is atomic), flushed to disk, and only once every file is staged are they renamed
/// into place, then the directories are flushed (`DurableFile`). A failure before
/// `commit` removes the temporary files and leaves existing files as they were; a writer
/// killed before it could remove them leaves temporary files that the next export into
/// the folder removes. Permissions follow the umask, as for any newly created file.
struct AtomicFileSet {
    /// Staged files: the temporary name and the final one.
    private var staged: [(temporary: String, final: String)] = []

    /// The final paths staged so far, in order.
    var paths: [String] { staged.map(\.final) }

    /// Writes `bytes` to a temporary file beside `path`. Errors: KMT_ERR_IO naming `path`
    /// (missing directory, no permission, a directory in the way, a full disk).
    mutating func stage(_ bytes: [UInt8], at path: String) throws {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw KMTError(.io, "\(path): cannot write (is a directory)")
        }
        let (directory, name) = DurableFile.split(path)
        DurableFile.recoverLeftovers(in: directory)
        // The name carries the process id and 64 random bits: no two writers share one.
        let temporary = DurableFile.temporaryPath(directory: directory, name: name, kind: "tmp")
        try DurableFile.write(bytes, to: temporary, label: path)
        staged.append((temporary, path))
    }

    /// Renames every staged file into place and flushes their directories. Errors:
    /// KMT_ERR_IO; the files not yet renamed are removed.
    mutating func commit() throws {
        defer { staged = [] }
        for (index, file) in staged.enumerated() where rename(file.temporary, file.final) != 0 {
            let detail = DurableFile.errorText()
            for rest in staged[index...] { unlink(rest.temporary) }
            throw KMTError(.io, "\(file.final): cannot write (\(detail))")
        }
        for directory in Set(staged.map { DurableFile.split($0.final).directory }) {
            DurableFile.syncDirectory(directory)
        }
    }

    /// Writes one file atomically and durably: stage, commit, and on any error remove the
    /// temporary file. Errors: KMT_ERR_IO naming `path`.
    static func write(_ bytes: [UInt8], to path: String) throws {
        var files = AtomicFileSet()
        do {
            try files.stage(bytes, at: path)
            try files.commit()
        } catch {
            files.discard()
            throw error
        }
    }

    /// Removes every staged temporary file (after a failure).
    mutating func discard() {
        for file in staged { unlink(file.temporary) }
        staged = []
    }
}
