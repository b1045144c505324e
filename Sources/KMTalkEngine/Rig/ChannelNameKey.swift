/// A blendshape name reduced to what tolerant matching compares: its words, lower-cased
/// and joined without separators, plus the face side it names, if any.
///
/// The naming styles in use all reduce to the same key: ARKit `eyeBlinkLeft`, Live Link /
/// Unity `EyeBlinkLeft`, ICT-FaceKit `eyeBlink_L`, snake case `eye_blink_left`, Blender
/// `eyeBlink.L`, all-lower `eyeblinkleft`, and prefixed forms such as `blendShape1.eyeBlinkLeft`,
/// `ARKit_eyeBlinkLeft` or a Maya namespace `head:eyeBlinkLeft` all give
/// `("eyeblink", .left)`.
///
/// `jawLeft`, `jawRight`, `mouthLeft` and `mouthRight` are directions (the jaw or mouth
/// moves left), not sides: their spelled-out `Left` / `Right` stays part of the base, so
/// `jawLeft` never matches a `jaw_L` half.
struct ChannelNameKey: Hashable, Sendable {
    /// The half of the face a name refers to.
    enum Side: Hashable, Sendable {
        case left, right
    }

    /// The name's words without the side, lower-cased and concatenated (`eyeblink`).
    let base: String
    /// The side the name ends (or starts) with, or nil for a whole-face shape.
    let side: Side?

    /// Bases whose spelled-out `Left` / `Right` is a direction of motion, not a side.
    static let directionalBases: Set<String> = ["jaw", "mouth"]
    /// Prefixes that tools put before blendshape names, each followed by optional digits
    /// and a separator (`blendShape1.`, `ARKit_`, `BS_`).
    static let toolPrefixes = ["blendshapes", "blendshape", "arkit", "bs"]

    init(base: String, side: Side?) {
        self.base = base
        self.side = side
    }

    /// The key of `name`, or nil when nothing but separators and prefixes remains.
    init?(_ name: String) {
        var words = Self.words(Self.strippingPrefixes(name)).map { $0.lowercased() }
        guard !words.isEmpty else { return nil }
        var side: Side?
        var spelledOut = false
        if words.count >= 2, let suffix = Self.side(of: words[words.count - 1]) {
            side = suffix
            spelledOut = words[words.count - 1].count > 1
            words.removeLast()
        } else if words.count >= 2, let prefix = Self.side(of: words[0]) {
            side = prefix
            words.removeFirst()
        } else if let last = words.last {
            // All lower-case names have no word boundary before the side: `eyeblinkleft`.
            for (word, wordSide) in [("left", Side.left), ("right", Side.right)]
            where last.count > word.count && last.hasSuffix(word) {
                side = wordSide
                spelledOut = true
                words[words.count - 1] = String(last.dropLast(word.count))
                break
            }
        }
        var base = words.joined()
        if let current = side, spelledOut, Self.directionalBases.contains(base) {
            base += current == .left ? "left" : "right"
            side = nil
        }
        guard !base.isEmpty else { return nil }
        self.init(base: base, side: side)
    }

    /// The side a lower-cased word names (`l`, `left`, `r`, `right`), or nil.
    static func side(of word: String) -> Side? {
        switch word {
        case "l", "left": return .left
        case "r", "right": return .right
        default: return nil
        }
    }

    /// Whether `scalar` separates words: `_`, `-`, `.`, a space.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar == "-" || scalar == "." || scalar == " "
    }

    /// `name` without a namespace or DAG path (up to the last `:` or `|`) and without tool
    /// prefixes (`blendShape1.`, `ARKit_`), as long as something remains.
    static func strippingPrefixes(_ name: String) -> Substring {
        var rest = Substring(name)
        if let cut = rest.lastIndex(where: { $0 == ":" || $0 == "|" }), rest.index(after: cut) < rest.endIndex {
            rest = rest[rest.index(after: cut)...]
        }
        var stripped = true
        while stripped {
            stripped = false
            let lower = rest.lowercased()
            for prefix in toolPrefixes where lower.hasPrefix(prefix) {
                var scalars = rest.unicodeScalars.dropFirst(prefix.unicodeScalars.count)
                while let first = scalars.first, ("0"..."9").contains(first) { scalars = scalars.dropFirst() }
                guard let separator = scalars.first, isSeparator(separator) else { continue }
                let remainder = scalars.dropFirst()
                guard remainder.contains(where: { !isSeparator($0) }) else { continue }
                rest = Substring(remainder)
                stripped = true
                break
            }
        }
        return rest
    }

    /// Splits at separators and at camel-case boundaries: `eyeBlinkLeft` -> eye, Blink,
    /// Left; `ARKitJaw` -> AR, Kit, Jaw; `eyeBlink_L` -> eye, Blink, L.
    static func words(_ text: Substring) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for (index, scalar) in scalars.enumerated() {
            if isSeparator(scalar) {
                flush()
                continue
            }
            if let previous = current.last, scalar.properties.isUppercase {
                let next = index + 1 < scalars.count ? scalars[index + 1] : nil
                let afterLowerOrDigit = previous.properties.isLowercase || previous.properties.numericType != nil
                let acronymEnds = previous.properties.isUppercase && (next?.properties.isLowercase ?? false)
                if afterLowerOrDigit || acronymEnds { flush() }
            }
            current.append(scalar)
        }
        flush()
        return words
    }
}
