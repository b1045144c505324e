/// Writes a mouth-cue track as Rhubarb Lip Sync's TSV: one line per cue, its start time in
/// seconds (two decimals), a tab and the shape letter, then a last line with the end of
/// the track and the rest shape (X; A when X is not enabled, as Rhubarb closes it):
///
///     0.00	X
///     0.06	C
///     0.24	F
///     ...
///     4.86	X
enum MouthCuesTSVExporter {
    /// The TSV text of `animation`'s cue track (`MouthCues`). Errors as
    /// `MouthCues.track(for:)`; `extendedShapes` as there.
    static func encode(_ animation: Animation, extendedShapes: Set<MouthShape> = MouthShape.extendedShapes) throws -> [UInt8] {
        encode(try MouthCues.track(for: animation, extendedShapes: extendedShapes))
    }

    /// The TSV text of `track`.
    static func encode(_ track: MouthCueTrack) -> [UInt8] {
        var out = ByteBuffer(capacity: 16 * (track.cues.count + 1))
        for cue in track.cues {
            out.append(MouthCues.secondsText(cue.startCentiseconds) + "\t" + cue.shape.rawValue + "\n")
        }
        out.append(MouthCues.secondsText(track.durationCentiseconds) + "\t" + track.restShape.rawValue + "\n")
        return out.bytes
    }
}
