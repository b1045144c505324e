import Foundation

/// Per-vertex surface colours for the preview. Rigs are one colour (skin) unless their
/// metadata has `parts`, a JSON object of part name -> [first, end) vertex range, as the
/// default head writes: then the inside of the mouth, the tongue and the eyeballs get their
/// own colours, the eyeballs with an iris and pupil around the `pupil_left` /
/// `pupil_right` vertices of the `landmarks` metadata when present.
enum PreviewColors {
    typealias RGB = (Float, Float, Float)
    /// Linear albedos.
    static let skin: RGB = (0.62, 0.40, 0.31)
    static let mouthInner: RGB = (0.30, 0.07, 0.07)
    static let tongue: RGB = (0.55, 0.16, 0.15)
    static let sclera: RGB = (0.80, 0.78, 0.74)
    static let iris: RGB = (0.10, 0.17, 0.26)
    static let pupil: RGB = (0.02, 0.02, 0.02)

    /// V x 3 linear albedos for a rig with `vertices` (V x 3) and the metadata `metadata`
    /// gives, or nil when it names no parts (all skin).
    static func albedos(vertices: [Float], metadata: (String) -> String?) -> [Float]? {
        guard let text = metadata("parts"), let parts = json(text) as? [String: Any] else { return nil }
        let landmarks = metadata("landmarks").flatMap { json($0) as? [String: Any] }
        let vertexCount = vertices.count / 3
        var colours = [Float](repeating: 0, count: vertexCount * 3)
        func paint(_ range: Range<Int>, _ colour: (Int) -> RGB) {
            for vertex in range {
                let c = colour(vertex)
                colours[3 * vertex] = c.0
                colours[3 * vertex + 1] = c.1
                colours[3 * vertex + 2] = c.2
            }
        }
        paint(0..<vertexCount) { _ in skin }
        for (name, value) in parts {
            guard let bounds = value as? [Any], bounds.count == 2, let first = integer(bounds[0]), let end = integer(bounds[1]),
                first >= 0, first <= end, end <= vertexCount
            else { continue }
            let range = first..<end
            switch name {
            case "mouth_inner": paint(range) { _ in mouthInner }
            case "tongue": paint(range) { _ in tongue }
            case let eye where eye.hasPrefix("eyeball"):
                let side = eye.hasSuffix("left") ? "pupil_left" : "pupil_right"
                guard let pupil = landmarks?[side].flatMap(integer), range.contains(pupil) else {
                    paint(range) { _ in sclera }
                    continue
                }
                paint(range, eyeColours(range: range, pupil: pupil, vertices: vertices))
            default: continue
            }
        }
        return colours
    }

    /// A JSON value parsed from `text`, or nil.
    private static func json(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// A JSON number that is a whole number, as Int.
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, let whole = Int(exactly: number.doubleValue) else { return nil }
        return whole
    }

    /// Sclera, iris and pupil by the distance from the pupil vertex relative to the eyeball's
    /// radius.
    static func eyeColours(range: Range<Int>, pupil: Int, vertices: [Float]) -> (Int) -> RGB {
        var centre: [Float] = [0, 0, 0]
        for vertex in range { for k in 0..<3 { centre[k] += vertices[3 * vertex + k] / Float(range.count) } }
        func distance(_ a: Int, _ b: [Float]) -> Float {
            (0..<3).reduce(Float(0)) { $0 + (vertices[3 * a + $1] - b[$1]) * (vertices[3 * a + $1] - b[$1]) }.squareRoot()
        }
        let radius = range.map { distance($0, centre) }.max() ?? 1
        let pupilPoint = (0..<3).map { vertices[3 * pupil + $0] }
        return { vertex in
            let d = distance(vertex, pupilPoint) / max(radius, .leastNormalMagnitude)
            return d < 0.22 ? Self.pupil : d < 0.55 ? Self.iris : Self.sclera
        }
    }
}
