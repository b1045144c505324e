/// A triangle corner in screen space: pixel coordinates (x right, y down, pixel (i, j)
/// covering [i, i + 1) x [j, j + 1) with its centre at i + 0.5), a depth (distance from
/// the camera: smaller is nearer) and a colour (linear, 0-1).
struct ScreenVertex {
    var x: Float
    var y: Float
    var depth: Float
    var r: Float
    var g: Float
    var b: Float
}

/// A z-buffered triangle rasterizer: edge functions over each triangle's pixel bounding
/// box, the top-left fill rule so shared edges are drawn once, depth and colour
/// interpolated linearly (exact for an orthographic camera), a pixel kept only when nearer
/// than what the depth buffer holds. Back faces (clockwise as seen by the viewer in a
/// y-up frame, that is counter-clockwise in these y-down pixel coordinates) are culled
/// unless `cullBackFaces` is off.
struct Rasterizer {
    let width: Int
    let height: Int
    /// Linear colour, 3 floats per pixel, rows top to bottom.
    var color: [Float]
    /// Depth per pixel; `.infinity` where nothing was drawn.
    var depth: [Float]
    /// Whether triangles facing away from the viewer are skipped.
    var cullBackFaces = true

    /// A cleared `width` x `height` target.
    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        color = [Float](repeating: 0, count: width * height * 3)
        depth = [Float](repeating: .infinity, count: width * height)
    }

    /// Fills the colour with `background` and the depth with infinity.
    mutating func clear(background: (Float, Float, Float)) {
        for pixel in 0..<(width * height) {
            color[3 * pixel] = background.0
            color[3 * pixel + 1] = background.1
            color[3 * pixel + 2] = background.2
        }
        for pixel in depth.indices { depth[pixel] = .infinity }
    }

    /// Whether the viewer sees the front of triangle (v0, v1, v2): counter-clockwise with y
    /// up, so negative signed area in y-down pixel coordinates.
    static func isFrontFacing(_ v0: ScreenVertex, _ v1: ScreenVertex, _ v2: ScreenVertex) -> Bool {
        (v1.x - v0.x) * (v2.y - v0.y) - (v2.x - v0.x) * (v1.y - v0.y) < 0
    }

    /// Draws one triangle. Returns the number of pixels written.
    @discardableResult
    mutating func drawTriangle(_ a: ScreenVertex, _ b: ScreenVertex, _ c: ScreenVertex) -> Int {
        // Positions snapped to 1/256 pixel and held in doubles: every edge-function value and
        // step below is then exact, so two triangles sharing an edge see exactly opposite
        // values there and the fill rule leaves no cracks and draws no pixel twice.
        func snap(_ value: Float) -> Double { Double((value * 256).rounded()) / 256 }
        var v0 = a, v1 = b, v2 = c
        var p0 = (snap(a.x), snap(a.y)), p1 = (snap(b.x), snap(b.y)), p2 = (snap(c.x), snap(c.y))
        var area = (p1.0 - p0.0) * (p2.1 - p0.1) - (p2.0 - p0.0) * (p1.1 - p0.1)
        guard area != 0, area.isFinite else { return 0 }
        if area > 0 {  // back face
            if cullBackFaces { return 0 }
            swap(&v1, &v2)
            swap(&p1, &p2)
            area = -area
        }
        /// `value` clamped to -1...limit, as an Int (safe for any finite or infinite value).
        func bound(_ value: Double, _ limit: Int) -> Int { Int(min(Double(limit), max(-1, value))) }
        let minX = max(0, bound((min(p0.0, p1.0, p2.0) - 0.5).rounded(.up), width))
        let maxX = min(width - 1, bound((max(p0.0, p1.0, p2.0) - 0.5).rounded(.down), width))
        let minY = max(0, bound((min(p0.1, p1.1, p2.1) - 0.5).rounded(.up), height))
        let maxY = min(height - 1, bound((max(p0.1, p1.1, p2.1) - 0.5).rounded(.down), height))
        guard minX <= maxX, minY <= maxY else { return 0 }

        /// Edge p -> q as a function of the pixel centre P: (P - p) x (q - p), positive
        /// inside a triangle of negative area, with its step along x; `owns` marks top and
        /// left edges, whose pixels the top-left fill rule gives to this triangle.
        func edge(_ p: (Double, Double), _ q: (Double, Double)) -> (p: (Double, Double), dx: Double, dy: Double, owns: Bool) {
            let dx = q.1 - p.1
            let dy = q.0 - p.0
            return (p, dx, dy, dx > 0 || (dx == 0 && dy < 0))
        }
        func value(_ e: (p: (Double, Double), dx: Double, dy: Double, owns: Bool), _ x: Double, _ y: Double) -> Double {
            (x - e.p.0) * e.dx - (y - e.p.1) * e.dy
        }
        let e0 = edge(p1, p2), e1 = edge(p2, p0), e2 = edge(p0, p1)
        let inverseArea = 1 / -area
        var written = 0
        let stride = width
        depth.withUnsafeMutableBufferPointer { depthBuffer in
            color.withUnsafeMutableBufferPointer { colorBuffer in
                for y in minY...maxY {
                    let py = Double(y) + 0.5
                    let px0 = Double(minX) + 0.5
                    var w0 = value(e0, px0, py)
                    var w1 = value(e1, px0, py)
                    var w2 = value(e2, px0, py)
                    for x in minX...maxX {
                        if (w0 > 0 || (w0 == 0 && e0.owns)) && (w1 > 0 || (w1 == 0 && e1.owns))
                            && (w2 > 0 || (w2 == 0 && e2.owns)) {
                            let b0 = Float(w0 * inverseArea), b1 = Float(w1 * inverseArea), b2 = Float(w2 * inverseArea)
                            let z = b0 * v0.depth + b1 * v1.depth + b2 * v2.depth
                            let pixel = y * stride + x
                            if z < depthBuffer[pixel] {
                                depthBuffer[pixel] = z
                                colorBuffer[3 * pixel] = b0 * v0.r + b1 * v1.r + b2 * v2.r
                                colorBuffer[3 * pixel + 1] = b0 * v0.g + b1 * v1.g + b2 * v2.g
                                colorBuffer[3 * pixel + 2] = b0 * v0.b + b1 * v1.b + b2 * v2.b
                                written += 1
                            }
                        }
                        w0 += e0.dx
                        w1 += e1.dx
                        w2 += e2.dx
                    }
                }
            }
        }
        return written
    }
}
