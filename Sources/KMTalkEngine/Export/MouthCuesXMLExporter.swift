/// Writes a mouth-cue track as Rhubarb Lip Sync's XML:
///
///     <?xml version="1.0" encoding="utf-8"?>
///     <rhubarbResult>
///       <metadata>
///         <soundFile>/home/me/speech.wav</soundFile>
///         <duration>4.86</duration>
///       </metadata>
///       <mouthCues>
///         <mouthCue start="0.00" end="0.06">X</mouthCue>
///         ...
///       </mouthCues>
///     </rhubarbResult>
///
/// The same cues, times and `soundFile` as the JSON (`MouthCuesJSONExporter`).
enum MouthCuesXMLExporter {
    /// The XML text of `animation`'s cue track (`MouthCues`). Errors as
    /// `MouthCues.track(for:)`; `extendedShapes` as there.
    static func encode(_ animation: Animation, extendedShapes: Set<MouthShape> = MouthShape.extendedShapes) throws -> [UInt8] {
        encode(try MouthCues.track(for: animation, extendedShapes: extendedShapes))
    }

    /// The XML text of `track`.
    static func encode(_ track: MouthCueTrack) -> [UInt8] {
        let cues = track.listedCues
        var out = ByteBuffer(capacity: 256 + 56 * cues.count)
        out.append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rhubarbResult>\n  <metadata>\n")
        out.append("    <soundFile>\(escaped(track.source.map(MouthCuesJSONExporter.absolutePath) ?? ""))</soundFile>\n")
        out.append("    <duration>\(MouthCues.secondsText(track.durationCentiseconds))</duration>\n")
        out.append("  </metadata>\n  <mouthCues>\n")
        for cue in cues {
            out.append(
                "    <mouthCue start=\"\(MouthCues.secondsText(cue.startCentiseconds))\" end=\"\(MouthCues.secondsText(cue.endCentiseconds))\">\(cue.shape.rawValue)</mouthCue>\n")
        }
        out.append("  </mouthCues>\n</rhubarbResult>\n")
        return out.bytes
    }

    /// `text` with XML's five special characters escaped.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
