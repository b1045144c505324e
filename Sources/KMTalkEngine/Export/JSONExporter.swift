/// Writes an animation as JSON text, the format `kmtalk animate -o x.json` has always
/// written:
///
///     {
///       "fps": 60.0,
///       "frame_count": 2,
///       "source": "speech.wav",
///       "model": "models/kmtalk-base.safetensors",
///       "channels": ["eyeBlinkLeft", ...],
///       "frames": [
///         [0.012,0,...],
///         [0.013,0,...]
///       ]
///     }
///
/// Frame i is at i / fps seconds. `source` and `model` (the animation's provenance) are
/// left out when unknown (PCM input, an animation built in memory). Weights are written
/// with 6 decimals, trailing zeros trimmed.
enum JSONExporter {
    /// Frames encoded between two progress reports.
    static let framesPerReport = 64

    /// The JSON document for `animation`; `progress` hears the share of the frames written
    /// (0...1) every `framesPerReport` frames and may throw to cancel.
    static func encode(_ animation: Animation, progress: (Double) throws -> Void = { _ in }) rethrows -> [UInt8] {
        var out = ByteBuffer(capacity: 64 + animation.frameCount * animation.channelCount * 9)
        out.append("{\n")
        out.append("  \"fps\": \(animation.fps),\n")
        out.append("  \"frame_count\": \(animation.frameCount),\n")
        if let source = animation.source { out.append("  \"source\": \(JSONText.quoted(source)),\n") }
        if let model = animation.model { out.append("  \"model\": \(JSONText.quoted(model)),\n") }
        out.append("  \"channels\": [" + animation.channelNames.map(JSONText.quoted).joined(separator: ", ") + "],\n")
        out.append("  \"frames\": [\n")
        let width = animation.channelCount
        try animation.values.data.withUnsafeBufferPointer { values in
            for frame in 0..<animation.frameCount {
                out.append("    [")
                for channel in 0..<width {
                    if channel > 0 { out.append(byte: UInt8(ascii: ",")) }
                    NumberText.appendWeight(values[frame * width + channel], to: &out)
                }
                out.append(frame + 1 < animation.frameCount ? "],\n" : "]\n")
                if (frame + 1) % framesPerReport == 0 { try progress(Double(frame + 1) / Double(animation.frameCount)) }
            }
        }
        out.append("  ]\n}\n")
        return out.bytes
    }
}
