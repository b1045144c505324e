import Glibc

/// Writes a per-frame sequence (`dir/face_000001.obj`, ...) so that the folder ends up
/// holding either the old sequence or the new one, never a mix and never stale frames of
/// a longer old one:
///
/// 1. every frame is written (and flushed) into a staging folder beside the sequence,
///    `.face_.kmtalk-PID-RANDOM.seq/`, with a manifest naming the sequence;
/// 2. `commit` renames the staging folder to `...commit` (one atomic step: from here on the
///    new sequence is decided), moves each frame into place, removes the frames of the
///    pattern it did not write, and removes the folder.
///
/// A writer killed during step 1 leaves a `.seq` folder the next export into the folder
/// removes (the old sequence stands); killed during step 2, a `.commit` folder the next
/// export finishes (the new sequence stands). Until then a reader may see a mix.
struct SequenceFileSet {
    static let stagingKind = "seq"
    static let committedKind = "commit"
    static let manifestName = "kmtalk-sequence"

    let paths: SequencePaths
    let count: Int
    /// The sequence's folder ("" or ending in "/") and the frame-name prefix in it.
    let directory: String
    let namePrefix: String
    /// The staging folder, created by the first `stage`.
    private var staging: String?

    init(paths: SequencePaths, count: Int) {
        self.paths = paths
        self.count = count
        (directory, namePrefix) = DurableFile.split(paths.prefix)
    }

    /// The final paths of the frames.
    var finalPaths: [String] { (0..<count).map { paths.path(frame: $0) } }

    /// Writes frame `index` into the staging folder.
    mutating func stage(_ bytes: [UInt8], frame index: Int) throws {
        let final = paths.path(frame: index)
        // Checked now: once committed, the move must not fail halfway.
        var info = stat()
        if stat(final, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw KMTError(.io, "\(final): cannot write (is a directory)")
        }
        let folder = try stagingFolder()
        try DurableFile.write(bytes, to: folder + "/" + DurableFile.split(final).name, label: final)
    }

    /// Moves the staged frames into place (see the type's notes).
    mutating func commit() throws {
        let folder = try stagingFolder()
        let manifest = "\(namePrefix)\n\(paths.suffix)\n\(paths.digits)\n\(count)\n"
        try DurableFile.write(Array(manifest.utf8), to: folder + "/" + Self.manifestName, label: folder)
        DurableFile.syncDirectory(folder)
        let committed = String(folder.dropLast(Self.stagingKind.count)) + Self.committedKind
        guard rename(folder, committed) == 0 else {
            throw KMTError(.io, "\(paths.path(frame: 0)): cannot write (\(DurableFile.errorText()))")
        }
        staging = nil
        DurableFile.syncDirectory(directory)
        try Self.finish(committed, directory: directory, namePrefix: namePrefix, suffix: paths.suffix, digits: paths.digits, count: count)
    }

    /// Removes the staging folder (after a failure).
    mutating func discard() {
        if let staging { DurableFile.removeTree(staging) }
        staging = nil
    }

    private mutating func stagingFolder() throws -> String {
        if let staging { return staging }
        DurableFile.recoverLeftovers(in: directory)
        let folder = DurableFile.temporaryPath(directory: directory, name: namePrefix, kind: Self.stagingKind)
        guard mkdir(folder, 0o777) == 0 else {
            throw KMTError(.io, "\(paths.path(frame: 0)): cannot write (\(DurableFile.errorText()))")
        }
        staging = folder
        return folder
    }

    /// Step 2 for a committed folder found by `DurableFile.recoverLeftovers` (a writer was
    /// killed while moving its frames): reads the manifest and finishes the move.
    static func finishCommitted(_ folder: String, directory: String) {
        guard let bytes = try? FileBytes.read(folder + "/" + manifestName, limit: 1 << 16) else {
            DurableFile.removeTree(folder)
            return
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 4, let digits = Int(lines[2]), let count = Int(lines[3]), !lines[0].contains("/") else {
            DurableFile.removeTree(folder)
            return
        }
        try? finish(folder, directory: directory, namePrefix: lines[0], suffix: lines[1], digits: digits, count: count)
    }

    /// Moves the frames still in `folder` into `directory`, removes the frames of the
    /// pattern numbered past `count` or with other digit counts, then the folder.
    static func finish(_ folder: String, directory: String, namePrefix: String, suffix: String, digits: Int, count: Int) throws {
        let paths = SequencePaths(prefix: directory + namePrefix, suffix: suffix, digits: digits)
        var wanted = Set<String>()
        for index in 0..<count {
            let name = DurableFile.split(paths.path(frame: index)).name
            wanted.insert(name)
            let staged = folder + "/" + name
            if rename(staged, directory + name) != 0, errno != ENOENT {
                throw KMTError(.io, "\(directory + name): cannot write (\(DurableFile.errorText()))")
            }
        }
        for name in (try? DirectoryListing.names(in: directory.isEmpty ? "." : directory)) ?? []
        where !wanted.contains(name) && isFrame(name, namePrefix: namePrefix, suffix: suffix) {
            unlink(directory + name)
        }
        DurableFile.removeTree(folder)
        DurableFile.syncDirectory(directory)
    }

    /// Whether `name` is `namePrefix` + at least six digits + `suffix`: a frame of the pattern.
    static func isFrame(_ name: String, namePrefix: String, suffix: String) -> Bool {
        guard name.hasPrefix(namePrefix), name.hasSuffix(suffix), name.utf8.count >= namePrefix.utf8.count + suffix.utf8.count + 6
        else { return false }
        let number = name.utf8.dropFirst(namePrefix.utf8.count).dropLast(suffix.utf8.count)
        return number.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
