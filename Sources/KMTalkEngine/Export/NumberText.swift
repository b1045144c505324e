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

    /// Appends `weight(value)`'s bytes to `out` without making a String: the text writers'
    /// hot path (1.5 million numbers for 10 minutes of 52 channels at 50 fps). Exact: a
    /// float times 10^6 is exact in double (24 + 14 significant bits), so rounding it to
    /// the nearest integer (ties to even, as glibc's printf rounds) gives `%.6f`'s digits.
    static func appendWeight(_ value: Float, to out: inout ByteBuffer) {
        let scaled = (Double(value) * 1_000_000).rounded(.toNearestOrEven)
        guard scaled.isFinite, abs(scaled) < 9e15 else {
            out.append(weight(value))
            return
        }
        var units = Int64(scaled)
        if units == 0 {
            out.append(byte: UInt8(ascii: "0"))
            return
        }
        if units < 0 {
            out.append(byte: UInt8(ascii: "-"))
            units = -units
        }
        var fraction = units % 1_000_000
        let whole = units / 1_000_000
        // The whole part, most significant digit first.
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = whole
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 && count < 10
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(byte: buffer[index]) }
        }
        guard fraction > 0 else { return }
        out.append(byte: UInt8(ascii: "."))
        var width = 6
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            out.append(byte: UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends `value` as C's `%.<decimals>f` prints it, every decimal kept ("0.0123400000",
    /// "-0.0000000000" for a negative value that rounds to zero, as printf writes it), for
    /// `decimals` up to 10 without making a String: the Live Link Face CSV's numbers.
    /// Exact: a float times 10^10 needs at most 24 + 24 significant bits, so the product is
    /// exact in double and rounding it to the nearest integer (ties to even, as glibc's
    /// printf rounds) gives printf's digits. Values too large for that (|value| >= 9e5 at
    /// 10 decimals) and non-finite ones go through `fixed`.
    static func appendFixed(_ value: Float, decimals: Int, to out: inout ByteBuffer) {
        precondition((0...10).contains(decimals))
        var power: Int64 = 1
        for _ in 0..<decimals { power *= 10 }
        let scaled = (Double(value) * Double(power)).rounded(.toNearestOrEven)
        guard scaled.isFinite, abs(scaled) < 9e15 else {
            out.append(fixed(Double(value), decimals: decimals))
            return
        }
        if value.sign == .minus { out.append(byte: UInt8(ascii: "-")) }
        let units = Int64(abs(scaled))
        let whole = units / power
        var fraction = units % power
        // The whole part, most significant digit first.
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var count = 0
            var rest = whole
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 && count < 16
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(byte: buffer[index]) }
            guard decimals > 0 else { return }
            out.append(byte: UInt8(ascii: "."))
            for index in stride(from: decimals - 1, through: 0, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
                fraction /= 10
            }
            for index in 0..<decimals { out.append(byte: buffer[index]) }
        }
    }

    /// The shortest decimal text that reads back as exactly `value` in float32 ("0.25",
    /// "1.0", "1e-05"): what OBJ positions use.
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
