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

    /// `value` as compact JSON text: numbers keep their literal text (so integers beyond
    /// 2^53 and every float stay exact), members keep their order. What the parser reads,
    /// this writes back unchanged in meaning.
    static func serialized(_ value: JSONValue) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }

    private static func append(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(_, let literal): out += literal
        case .string(let text): out += quoted(text)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                out += quoted(member.key) + ":"
                append(member.value, to: &out)
            }
            out += "}"
        }
    }
}
