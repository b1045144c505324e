import Glibc

/// A list of strings kept as NUL-terminated C strings for the lifetime of the owner, so
/// the C API can hand out `const char *` that stay valid as long as the object does.
final class CStringTable: @unchecked Sendable {
    /// The Swift strings, in order.
    let strings: [String]
    private let pointers: [UnsafeMutablePointer<CChar>]

    init(_ strings: [String]) {
        self.strings = strings
        self.pointers = strings.map { strdup($0)! }
    }

    deinit {
        for pointer in pointers { free(pointer) }
    }

    var count: Int { strings.count }

    /// The C string at `index`, or nil when out of range.
    func pointer(at index: Int) -> UnsafePointer<CChar>? {
        guard index >= 0, index < pointers.count else { return nil }
        return UnsafePointer(pointers[index])
    }
}
