import Foundation

/// Screen-space darkening of enclosed recesses, read from the depth buffer: around each
/// drawn pixel, `directions` rays sample the depth at a few distances up to `radius`
/// (world units); a direction counts as closed in proportion to how steeply the nearest
/// surface along it rises towards the camera (the horizon's slope). A pixel closed on
/// nearly all sides (the back of an open mouth behind the lips, a nostril) turns dark; one
/// closed on a few sides (a cheek beside the nose) only a little. Lambert shading alone
/// cannot do this: the back of a mouth cavity faces the camera and the light.
struct CavityShading {
    /// How far around a pixel to look, in world units (about the mouth's half width).
    var radius: Float
    /// Number of ray directions.
    var directions = 8
    /// Samples per ray, evenly spaced up to `radius`.
    var samplesPerRay = 5
    /// Horizon slopes (rise over distance) at which a direction starts to count as closed
    /// and counts fully.
    var openSlope: Float = 0.3
    var closedSlope: Float = 1.0
    /// How much a fully closed pixel loses: a mild share in proportion, plus a strong share
    /// once most directions are closed.
    var gentle: Float = 0.22
    var strong: Float = 0.72

    /// Darkens `target`'s colour where its depth shows recesses; `pixelsPerUnit` converts
    /// `radius` to pixels.
    func darken(_ target: inout Rasterizer, pixelsPerUnit: Float) {
        let radiusPixels = radius * pixelsPerUnit
        guard radiusPixels >= 2, directions > 0, samplesPerRay > 0 else { return }
        let width = target.width, height = target.height
        // Sample offsets (pixels) and their distances (world units) per direction.
        var offsets: [(dx: Int, dy: Int, distance: Float)] = []
        for direction in 0..<directions {
            let angle = 2 * Float.pi * (Float(direction) + 0.5) / Float(directions)
            for step in 1...samplesPerRay {
                let along = radiusPixels * Float(step) / Float(samplesPerRay)
                let dx = Int((cos(angle) * along).rounded()), dy = Int((sin(angle) * along).rounded())
                let distance = (Float(dx * dx + dy * dy)).squareRoot() / pixelsPerUnit
                offsets.append((dx, dy, max(distance, 0.5 / pixelsPerUnit)))
            }
        }
        let depth = target.depth
        let slopeRange = max(closedSlope - openSlope, .leastNormalMagnitude)
        var factor = [Float](repeating: 1, count: width * height)
        depth.withUnsafeBufferPointer { z in
            for y in 0..<height {
                for x in 0..<width {
                    let pixel = y * width + x
                    let centre = z[pixel]
                    guard centre.isFinite else { continue }
                    var closed: Float = 0
                    for direction in 0..<directions {
                        var slope: Float = -.infinity
                        for sample in 0..<samplesPerRay {
                            let offset = offsets[direction * samplesPerRay + sample]
                            let sx = x + offset.dx, sy = y + offset.dy
                            guard sx >= 0, sx < width, sy >= 0, sy < height else { break }
                            let other = z[sy * width + sx]
                            guard other.isFinite else { continue }
                            slope = max(slope, (centre - other) / offset.distance)
                        }
                        closed += min(1, max(0, (slope - openSlope) / slopeRange))
                    }
                    let fraction = closed / Float(directions)
                    let enclosed = Self.smoothstep(0.45, 0.85, fraction)
                    factor[pixel] = 1 - gentle * fraction - strong * enclosed
                }
            }
        }
        for pixel in 0..<(width * height) where factor[pixel] < 1 {
            let f = max(0, factor[pixel])
            target.color[3 * pixel] *= f
            target.color[3 * pixel + 1] *= f
            target.color[3 * pixel + 2] *= f
        }
    }

    static func smoothstep(_ edge0: Float, _ edge1: Float, _ x: Float) -> Float {
        let t = min(1, max(0, (x - edge0) / (edge1 - edge0)))
        return t * t * (3 - 2 * t)
    }
}
