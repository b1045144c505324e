/// Writes a mouth-cue track as a Moho (Anime Studio) switch-layer data file, the DAT that
/// Rhubarb Lip Sync writes for Moho and OpenToonz: a `MohoSwitch1` line, then one line
/// per cue, `<frame> <shape>`, frames numbered from 1 at `frameRate` (Rhubarb's default 24)
/// from each cue's start; cues that fall on an earlier cue's frame are dropped; a last
/// line with the rest shape (X, or A when X is not enabled) at the frame of the track's
/// end (one frame later if that frame is taken).
enum MouthCuesDATExporter {
    /// The frame rate of the numbers, as Rhubarb's default `--datFrameRate`.
    static let frameRate = 24

    /// The DAT text of `animation`'s cue track (`MouthCues`). Errors as
    /// `MouthCues.track(for:)`; `extendedShapes` as there.
    static func encode(_ animation: Animation, extendedShapes: Set<MouthShape> = MouthShape.extendedShapes) throws -> [UInt8] {
        encode(try MouthCues.track(for: animation, extendedShapes: extendedShapes))
    }

    /// The DAT text of `track`.
    static func encode(_ track: MouthCueTrack) -> [UInt8] {
        var out = ByteBuffer(capacity: 16 + 12 * (track.cues.count + 1))
        out.append("MohoSwitch1\n")
        var lastFrame = 0
        for cue in track.cues {
            let frame = frameNumber(centiseconds: cue.startCentiseconds)
            guard frame != lastFrame else { continue }
            out.append("\(frame) \(cue.shape.rawValue)\n")
            lastFrame = frame
        }
        var end = frameNumber(centiseconds: track.durationCentiseconds)
        if end == lastFrame { end += 1 }
        out.append("\(end) \(track.restShape.rawValue)\n")
        return out.bytes
    }

    /// The 1-based frame at `frameRate` a time in centiseconds falls in.
    static func frameNumber(centiseconds: Int) -> Int {
        1 + centiseconds * frameRate / 100
    }
}
