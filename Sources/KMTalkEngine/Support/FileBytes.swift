import CKMTalk
import Glibc

/// Reads files without Foundation.
enum FileBytes {
    /// Reads the whole file at `path`, or throws an I/O error naming the file.
    static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw KMTError(KMT_ERR_IO, "\(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0 else {
            throw KMTError(KMT_ERR_IO, "\(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw KMTError(KMT_ERR_IO, "\(path): is a directory")
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        guard read == size else {
            throw KMTError(KMT_ERR_IO, "\(path): read \(read) of \(size) bytes")
        }
        return bytes
    }
}
