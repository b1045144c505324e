import Glibc

/// Decimal text for numbers in the text exports, without Foundation.
enum NumberText {
    /// `value` with `decimals` digits after the point, exactly as C's `%.<decimals>f`
    /// prints it (correctly rounded from the binary value).
    static func fixed(_ value: Double, decimals: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let written = withVaList([value]) { arguments in
            buffer.withUnsafeMutableBufferPointer { target in
                vsnprintf(target.baseAddress, target.count, "%.\(decimals)f", arguments)
            }
        }
        guard written >= 0, Int(written) < buffer.count else { return String(value) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// A weight as the animation text formats write it: `%.6f` with trailing zeros and
    /// a trailing point removed ("0.25", "1", "0"), never "-0". Parsed back it is within
    /// 5e-7 of `value`.
    static func weight(_ value: Float) -> String {
        if value == 0 { return "0" }
        var text = fixed(Double(value), decimals: 6)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// The shortest decimal text that reads back as exactly `value` in float32 ("0.25",
    /// "1.0", "1e-05"): what OBJ and Live Link CSV positions and weights use.
    static func shortest(_ value: Float) -> String {
        value == 0 ? "0" : value.description
    }

    /// `value` widened to double and written in full, so that a reader comparing in
    /// double precision and one comparing in float32 both see the exact float (glTF
    /// accessor bounds).
    static func exact(_ value: Float) -> String {
        value == 0 ? "0" : Double(value).description
    }
}
