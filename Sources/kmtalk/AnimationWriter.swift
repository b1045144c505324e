import Foundation

/// Output formats of `kmtalk animate`.
enum AnimationFormat: String, CaseIterable {
    case json, csv

    /// The format implied by a file extension, or nil.
    init?(path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "json": self = .json
        case "csv": self = .csv
        default: return nil
        }
    }
}

/// Serialises animations.
enum AnimationWriter {
    /// Shortest decimal text that round-trips a weight, trimmed to 6 decimals.
    static func number(_ value: Float) -> String {
        if value == 0 { return "0" }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A JSON string literal for `text`.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// JSON: `{"fps", "frame_count", "channels": [names], "frames": [[weights per channel], ...],
    /// "source", "model"}`; frame i is at i / fps seconds.
    static func json(_ animation: AnimationResult, source: String, model: String) -> String {
        var out = "{\n"
        out += "  \"fps\": \(animation.fps),\n"
        out += "  \"frame_count\": \(animation.frameCount),\n"
        out += "  \"source\": \(quoted(source)),\n"
        out += "  \"model\": \(quoted(model)),\n"
        out += "  \"channels\": [" + animation.channels.map(quoted).joined(separator: ", ") + "],\n"
        out += "  \"frames\": [\n"
        let width = animation.channels.count
        for frame in 0..<animation.frameCount {
            let row = animation.values[(frame * width)..<((frame + 1) * width)].map(number).joined(separator: ",")
            out += "    [" + row + "]" + (frame + 1 < animation.frameCount ? ",\n" : "\n")
        }
        out += "  ]\n}\n"
        return out
    }

    /// CSV: a header `time,<channel>...` and one row per frame, time in seconds.
    static func csv(_ animation: AnimationResult) -> String {
        var out = "time," + animation.channels.joined(separator: ",") + "\n"
        let width = animation.channels.count
        for frame in 0..<animation.frameCount {
            out += String(format: "%.6f", Double(frame) / animation.fps)
            for value in animation.values[(frame * width)..<((frame + 1) * width)] {
                out += "," + number(value)
            }
            out += "\n"
        }
        return out
    }
}
