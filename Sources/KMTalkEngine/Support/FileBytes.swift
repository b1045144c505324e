import Glibc

/// Reads files without Foundation, safely for a host program: only regular files are
/// opened (a FIFO, device or socket is refused at once instead of blocking in `open`),
/// every size is checked against the file's real size and `sizeLimit` before anything is
/// allocated, and an allocation that fails is `KMT_ERR_OUT_OF_MEMORY`, never a trap.
enum FileBytes {
    /// The largest file the loaders read whole (models, rigs, glTF/GLB and their buffers,
    /// OBJ files): 4 GiB. Larger files are refused before anything is read.
    static let sizeLimit = 4 << 30

    /// An open regular file: its descriptor and size in bytes.
    struct OpenFile: ~Copyable {
        let descriptor: Int32
        let size: Int
        let path: String

        /// Opens `path` for reading; refuses anything but a regular file without blocking.
        init(_ path: String) throws {
            guard !path.isEmpty else { throw KMTError.invalidArgument("path is empty") }
            // O_NONBLOCK: opening a FIFO with no writer returns at once (and is then refused).
            let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard descriptor >= 0 else {
                throw KMTError(.io, "\(path): \(String(cString: strerror(errno)))")
            }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                let message = String(cString: strerror(errno))
                close(descriptor)
                throw KMTError(.io, "\(path): \(message)")
            }
            guard let kind = FileBytes.irregularKind(info.st_mode) else {
                self.descriptor = descriptor
                self.size = Int(info.st_size)
                self.path = path
                return
            }
            close(descriptor)
            throw KMTError(.io, "\(path): is \(kind), not a regular file")
        }

        deinit { close(descriptor) }

        /// Reads `count` bytes at `offset` into `buffer` (a short file is an I/O error).
        func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
            var done = 0
            while done < count {
                let chunk = min(count - done, 1 << 30)
                let got = pread(descriptor, buffer + done, chunk, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw KMTError(.io, "\(path): \(String(cString: strerror(errno)))")
                }
                if got == 0 {
                    throw KMTError(.io, "\(path): read \(done) of \(count) bytes at offset \(offset) (the file shrank)")
                }
                done += got
            }
        }

        /// The first `count` bytes (fewer when the file is shorter).
        func prefix(_ count: Int) throws -> [UInt8] {
            let length = min(count, size)
            var bytes = [UInt8](repeating: 0, count: length)
            if length > 0 {
                try bytes.withUnsafeMutableBytes { try read(into: $0.baseAddress!, count: length, at: 0) }
            }
            return bytes
        }

        /// Calls `body` with the whole file in memory (freed when `body` returns).
        func withContents<R>(limit: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
            try FileBytes.checkSize(size, limit: limit, path: path)
            let buffer = try FileBytes.allocate(size, purpose: path)
            defer { free(buffer) }
            try read(into: buffer, count: size, at: 0)
            return try body(UnsafeRawBufferPointer(start: buffer, count: size))
        }
    }

    /// Calls `body` with the whole file at `path` in memory (freed when `body` returns).
    static func withContents<R>(_ path: String, limit: Int = sizeLimit, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let file = try OpenFile(path)
        return try file.withContents(limit: limit, body)
    }

    /// Reads the whole file at `path`, or throws an error naming the file.
    static func read(_ path: String, limit: Int = sizeLimit) throws -> [UInt8] {
        let file = try OpenFile(path)
        try checkSize(file.size, limit: limit, path: path)
        try probeAllocation(file.size, purpose: path)
        var bytes = [UInt8](repeating: 0, count: file.size)
        if file.size > 0 {
            try bytes.withUnsafeMutableBytes { try file.read(into: $0.baseAddress!, count: file.size, at: 0) }
        }
        return bytes
    }

    /// Refuses a file larger than `limit`.
    static func checkSize(_ size: Int, limit: Int, path: String) throws {
        guard size <= limit else {
            throw KMTError(.outOfMemory, "\(path): \(size) bytes (\(describe(bytes: size))), over the limit of \(limit) bytes (\(describe(bytes: limit))) for files read whole")
        }
    }

    /// `count` bytes from malloc, or KMT_ERR_OUT_OF_MEMORY naming `purpose`.
    static func allocate(_ count: Int, purpose: String) throws -> UnsafeMutableRawPointer {
        guard let buffer = malloc(max(count, 1)) else {
            throw KMTError(.outOfMemory, "\(purpose): cannot allocate \(describe(bytes: count))")
        }
        return buffer
    }

    /// Throws KMT_ERR_OUT_OF_MEMORY when `count` bytes cannot be allocated now: called
    /// before a Swift array of that size is made (the array itself would trap).
    static func probeAllocation(_ count: Int, purpose: String) throws {
        free(try allocate(count, purpose: purpose))
    }

    /// "a FIFO", "a directory", ... for anything but a regular file; nil for a regular file.
    static func irregularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a file"
        }
    }

    /// A size in bytes for messages: "512 bytes", "3.2 MiB", "40.0 GiB".
    static func describe(bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
