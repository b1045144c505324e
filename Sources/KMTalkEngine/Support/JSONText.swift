/// JSON string literals, the one escaper of every writer of JSON text (the safetensors
/// header, the animation JSON, the glTF document of a GLB, the mouth-cue JSON).
enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped
    /// (RFC 8259), everything else as UTF-8.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON array of string literals.
    static func stringArray(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ",") + "]"
    }
}
