/// The mouth shapes of Rhubarb Lip Sync, the de-facto standard set for 2D characters: six
/// basic shapes (A-F, from the Hanna-Barbera studios) plus three extended ones (G, H, X).
/// A mouth-cue track (`MouthCueTrack`) says which one to draw when. The raw value is the
/// letter written in the TSV and JSON cue files.
enum MouthShape: String, Sendable, CaseIterable {
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

    /// Rhubarb's extended shapes: G, H and X. A host that draws only the six basic ones
    /// gets each as `basicShape`.
    static let extendedShapes: Set<MouthShape> = [.g, .h, .x]

    /// The basic shape (A-F) Rhubarb draws instead of this one when its extended shape is
    /// not enabled (`getBasicShape` in Rhubarb's animationRules.cpp): G (upper teeth on the
    /// lower lip) as B, H (tongue raised) as C, X (rest) as A. Basic shapes stay.
    var basicShape: MouthShape {
        switch self {
        case .g: return .b
        case .h: return .c
        case .x: return .a
        case .a, .b, .c, .d, .e, .f: return self
        }
    }

    /// This shape as drawn when only the extended shapes in `enabled` may be used.
    func limited(to enabled: Set<MouthShape>) -> MouthShape {
        Self.extendedShapes.contains(self) && !enabled.contains(self) ? basicShape : self
    }

    /// The extended shapes named by `text`, letters G, H and X in any order and case, as
    /// Rhubarb's `--extendedShapes` takes them ("" for none). Errors:
    /// KMT_ERR_INVALID_ARGUMENT naming a character that is not G, H or X.
    static func extendedShapes(parsing text: String) throws -> Set<MouthShape> {
        var shapes: Set<MouthShape> = []
        for character in text {
            guard let shape = MouthShape(rawValue: character.uppercased()), extendedShapes.contains(shape) else {
                throw KMTError.invalidArgument(
                    "extended mouth shapes '\(text)': '\(character)' is not one of Rhubarb's extended shapes G, H, X (\"\" for the basic shapes A-F only)")
            }
            shapes.insert(shape)
        }
        return shapes
    }
}
