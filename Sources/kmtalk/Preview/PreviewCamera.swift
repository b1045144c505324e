/// A front orthographic camera looking down -z at a rig (+y up, the face towards +z):
/// world (x, y) maps to pixels around `center` at `scale` pixels per unit, depth is -z
/// (smaller is nearer). Fixed for a whole clip so the head does not jitter.
struct PreviewCamera {
    /// The world point at the image centre (x, y).
    var centerX: Float
    var centerY: Float
    /// Pixels per world unit.
    var scale: Float
    let width: Int
    let height: Int

    /// Frames the square region of side `extent` around (`centerX`, `centerY`).
    init(centerX: Float, centerY: Float, extent: Float, width: Int, height: Int) {
        self.centerX = centerX
        self.centerY = centerY
        self.scale = Float(min(width, height)) / max(extent, .leastNormalMagnitude)
        self.width = width
        self.height = height
    }

    /// Frames the x-y bounding box of `vertices` (x, y, z triples) with a margin.
    static func framing(vertices: [Float], width: Int, height: Int, margin: Float = 0.06) -> PreviewCamera {
        let box = BoundingBox(vertices)
        let extent = max(box.size(0), box.size(1)) * (1 + 2 * margin)
        return PreviewCamera(centerX: box.center(0), centerY: box.center(1), extent: extent, width: width, height: height)
    }

    /// Pixel x of world x.
    @inline(__always) func pixelX(_ x: Float) -> Float { (x - centerX) * scale + Float(width) / 2 }
    /// Pixel y of world y (pixel rows grow downwards).
    @inline(__always) func pixelY(_ y: Float) -> Float { Float(height) / 2 - (y - centerY) * scale }
}

/// The axis-aligned bounds of x, y, z triples.
struct BoundingBox {
    var low: [Float] = [.infinity, .infinity, .infinity]
    var high: [Float] = [-.infinity, -.infinity, -.infinity]

    /// The bounds of the points `xyz`, or of those among them that `include` selects.
    init(_ xyz: [Float], include: ((Int) -> Bool)? = nil) {
        for vertex in 0..<(xyz.count / 3) where include?(vertex) ?? true {
            for k in 0..<3 {
                low[k] = min(low[k], xyz[3 * vertex + k])
                high[k] = max(high[k], xyz[3 * vertex + k])
            }
        }
    }

    /// Whether no point was included.
    var isEmpty: Bool { !(low[0] <= high[0]) }
    func size(_ axis: Int) -> Float { isEmpty ? 0 : high[axis] - low[axis] }
    func center(_ axis: Int) -> Float { isEmpty ? 0 : (low[axis] + high[axis]) / 2 }
}
