/// Writes a mouth-cue track as Rhubarb Lip Sync's JSON:
///
///     {
///       "metadata": {
///         "soundFile": "examples/audio/hello.wav",
///         "duration": 4.86
///       },
///       "mouthCues": [
///         { "start": 0.00, "end": 0.06, "value": "X" },
///         { "start": 0.06, "end": 0.24, "value": "C" },
///         ...
///       ]
///     }
///
/// Times in seconds with two decimals; each cue ends where the next starts. `soundFile` is
/// the audio file's absolute path as Rhubarb writes it (the path as given when it can no
/// longer be resolved), "" for PCM input. A track without cues (an animation without frames) gets one zero-length X
/// cue, as Rhubarb writes for empty recordings.
enum MouthCuesJSONExporter {
    /// The JSON text of `animation`'s cue track (`MouthCues`). Errors as
    /// `MouthCues.track(for:)`; `extendedShapes` as there.
    static func encode(_ animation: Animation, extendedShapes: Set<MouthShape> = MouthShape.extendedShapes) throws -> [UInt8] {
        encode(try MouthCues.track(for: animation, extendedShapes: extendedShapes))
    }

    /// `path` made absolute (symbolic links resolved) when the file exists, else as given.
    static func absolutePath(_ path: String) -> String {
        DirectoryListing.realPath(path) ?? path
    }

    /// The JSON text of `track`.
    static func encode(_ track: MouthCueTrack) -> [UInt8] {
        let cues = track.listedCues
        var out = ByteBuffer(capacity: 128 + 48 * cues.count)
        out.append("{\n  \"metadata\": {\n")
        out.append("    \"soundFile\": \(JSONText.quoted(track.source.map(absolutePath) ?? "")),\n")
        out.append("    \"duration\": \(MouthCues.secondsText(track.durationCentiseconds))\n")
        out.append("  },\n  \"mouthCues\": [\n")
        for (index, cue) in cues.enumerated() {
            out.append(
                "    { \"start\": \(MouthCues.secondsText(cue.startCentiseconds)), \"end\": \(MouthCues.secondsText(cue.endCentiseconds)), \"value\": \"\(cue.shape.rawValue)\" }"
                    + (index + 1 < cues.count ? ",\n" : "\n"))
        }
        out.append("  ]\n}\n")
        return out.bytes
    }
}
