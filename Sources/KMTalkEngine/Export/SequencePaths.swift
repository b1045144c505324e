/// The file names of a per-frame sequence export: `dir/name.obj` becomes
/// `dir/name_000001.obj`, `dir/name_000002.obj`, ..., numbered from 1 with at least six
/// digits (more when the sequence needs them), in the directory of the given path.
struct SequencePaths {
    /// Everything before the number: `dir/name_`.
    let prefix: String
    /// Everything after it: `.obj`.
    let suffix: String
    /// Digits of the number.
    let digits: Int

    /// Splits `pattern` at its extension for a sequence of `count` frames.
    init(pattern: String, count: Int) {
        let slash = pattern.lastIndex(of: "/")
        let nameStart = slash.map { pattern.index(after: $0) } ?? pattern.startIndex
        if let dot = pattern[nameStart...].lastIndex(of: "."), dot != nameStart {
            prefix = String(pattern[..<dot]) + "_"
            suffix = String(pattern[dot...])
        } else {
            prefix = pattern + "_"
            suffix = ""
        }
        digits = max(6, String(count).count)
    }

    /// A pattern from its parts.
    init(prefix: String, suffix: String, digits: Int) {
        self.prefix = prefix
        self.suffix = suffix
        self.digits = digits
    }

    /// The path of frame `index` (0-based; its file is numbered `index + 1`).
    func path(frame index: Int) -> String {
        let number = String(index + 1)
        return prefix + String(repeating: "0", count: max(0, digits - number.count)) + number + suffix
    }
}
