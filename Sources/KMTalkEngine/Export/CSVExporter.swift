/// Writes an animation as CSV, the format `kmtalk animate -o x.csv` has always written: a
/// header `time,<channel>,...` and one row per frame, the time in seconds with 6
/// decimals, weights with 6 decimals and trailing zeros trimmed. Channel names are written
/// as they are (model channel names contain no commas or quotes).
enum CSVExporter {
    /// Frames encoded between two progress reports.
    static let framesPerReport = 64

    /// The CSV text for `animation`; `progress` hears the share of the rows written (0...1)
    /// every `framesPerReport` frames and may throw to cancel.
    static func encode(_ animation: Animation, progress: (Double) throws -> Void = { _ in }) rethrows -> [UInt8] {
        var out = ByteBuffer(capacity: 64 + animation.frameCount * (animation.channelCount + 1) * 9)
        out.append("time," + animation.channelNames.map(field).joined(separator: ",") + "\n")
        let width = animation.channelCount
        try animation.values.data.withUnsafeBufferPointer { values in
            for frame in 0..<animation.frameCount {
                out.append(NumberText.fixed(Double(frame) / animation.fps, decimals: 6))
                for channel in 0..<width {
                    out.append(byte: UInt8(ascii: ","))
                    NumberText.appendWeight(values[frame * width + channel], to: &out)
                }
                out.append(byte: UInt8(ascii: "\n"))
                if (frame + 1) % framesPerReport == 0 { try progress(Double(frame + 1) / Double(animation.frameCount)) }
            }
        }
        return out.bytes
    }

    /// A header field: quoted (RFC 4180) only when it holds a comma, quote or line break.
    static func field(_ name: String) -> String {
        guard name.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return name }
        var quoted = "\""
        for character in name { quoted += character == "\"" ? "\"\"" : String(character) }
        return quoted + "\""
    }
}
