/// One animation channel's morph target as the web page stores it: the vertices the channel
/// moves and their deltas quantized to int16 with one scale, so a page carries the default
/// head's targets in a few hundred kilobytes instead of 52 x V x 12 bytes.
///
/// A vertex is kept when its largest delta component quantizes to a nonzero step; the page
/// adds `weight * scale * delta` to each kept vertex. The quantization error is at most
/// half a step, `scale / 2` (under a micrometre for the default head's largest target).
struct SparseMorphTarget: Equatable {
    /// The animation channel (index into its channel names) that drives the target.
    var channel: Int
    /// Metres (the rig's GLB units) per int16 step.
    var scale: Float
    /// The moved vertices, ascending.
    var vertices: [UInt32]
    /// x, y, z steps per moved vertex.
    var deltas: [Int16]

    /// Quantizes dense V x 3 `deltas` for `channel`; nil when nothing moves.
    init?(channel: Int, deltas dense: [Float]) {
        let largest = dense.reduce(Float(0)) { max($0, abs($1)) }
        guard largest > 0, largest.isFinite else { return nil }
        self.channel = channel
        scale = largest / Float(Int16.max)
        vertices = []
        deltas = []
        for vertex in 0..<(dense.count / 3) {
            let steps = (0..<3).map { (dense[3 * vertex + $0] / scale).rounded() }
            guard steps.contains(where: { $0 != 0 }) else { continue }
            vertices.append(UInt32(vertex))
            deltas += steps.map { Int16(max(-32767, min(32767, $0))) }
        }
    }

    /// The dense V x 3 deltas the quantized target stands for (for tests).
    func expanded(vertexCount: Int) -> [Float] {
        var dense = [Float](repeating: 0, count: vertexCount * 3)
        for (k, vertex) in vertices.enumerated() {
            for axis in 0..<3 { dense[3 * Int(vertex) + axis] = Float(deltas[3 * k + axis]) * scale }
        }
        return dense
    }
}
