/// Refines the weight-based mouth shapes of a frame with the phone the model recognized
/// there (`Animation.phones`), for the two Rhubarb shapes the ARKit weights show poorly:
///
/// - **H** (the tongue raised behind the upper teeth, "L") for a lateral (`l`, `ʎ`) over an
///   open-ish mouth (B, C, D or E): no ARKit channel shows the tongue tip, so the weights
///   never give H on their own;
/// - **G** (upper teeth on the lower lip, "F", "V") for a labiodental (`f`, `v`) over a
///   parted mouth (B or C) where the lower lip's roll was too small for the weights' rule.
///
/// Closures (A), rest (X) and rounded shapes of other phones are left alone, and so are
/// segments the model was unsure of (mean posterior below `minimumConfidence`).
struct PhoneCueRefiner: Sendable {
    /// Laterals: H.
    static let laterals: Set<String> = ["l", "ʎ"]
    /// Labiodentals: G.
    static let labiodentals: Set<String> = ["f", "v"]
    /// Smallest segment confidence acted on.
    static let minimumConfidence: Float = 0.5

    let track: PhoneTrack

    /// `shapes[i]` is frame i's shape at `fps`; returns them refined. Frame i is judged
    /// by the phone at its centre, (i + 0.5) / fps.
    func refine(_ shapes: [MouthShape], fps: Double) -> [MouthShape] {
        var result = shapes
        var index = 0
        let segments = track.segments
        for frame in shapes.indices {
            let time = (Double(frame) + 0.5) / fps
            while index < segments.count && segments[index].end <= time { index += 1 }
            guard index < segments.count, segments[index].start <= time,
                segments[index].confidence >= Self.minimumConfidence
            else { continue }
            let phone = segments[index].phone
            let shape = shapes[frame]
            if Self.laterals.contains(phone), [.b, .c, .d, .e].contains(shape) {
                result[frame] = .h
            } else if Self.labiodentals.contains(phone), shape == .b || shape == .c {
                result[frame] = .g
            }
        }
        return result
    }
}
