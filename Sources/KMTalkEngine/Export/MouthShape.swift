/// The mouth shapes of Rhubarb Lip Sync, the de-facto standard set for 2D characters: six
/// basic shapes (A-F, from the Hanna-Barbera studios) plus three extended ones (G, H, X).
/// A mouth-cue track (`MouthCueTrack`) says which one to draw when. The raw value is the
/// letter written in the TSV and JSON cue files.
public enum MouthShape: String, Sendable, CaseIterable {
    /// Closed mouth, lips pressed together: "P", "B" and "M".
    case a = "A"
    /// Slightly open mouth, clenched teeth: most consonants ("K", "S", "T") and "EE".
    case b = "B"
    /// Open mouth: "EH" (men), "AE" (bat), some other vowels and consonants.
    case c = "C"
    /// Wide open mouth: "AA" (father).
    case d = "D"
    /// Slightly rounded mouth: "AO" (off), "ER" (bird).
    case e = "E"
    /// Puckered lips: "UW" (you), "OW" (show), "W".
    case f = "F"
    /// Upper teeth on the lower lip: "F" and "V".
    case g = "G"
    /// Open mouth with the tongue raised and visible: long "L" sounds.
    case h = "H"
    /// Idle: the mouth at rest, in silence.
    case x = "X"
}
