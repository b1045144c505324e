import Testing

@testable import kmtalk

@Suite struct RasterizerTests {
    static func vertex(_ x: Float, _ y: Float, depth: Float = 1, gray: Float = 1) -> ScreenVertex {
        ScreenVertex(x: x, y: y, depth: depth, r: gray, g: gray, b: gray)
    }

    /// Pixels written (finite depth), as (x, y) pairs.
    static func covered(_ target: Rasterizer) -> Set<[Int]> {
        var pixels = Set<[Int]>()
        for y in 0..<target.height {
            for x in 0..<target.width where target.depth[y * target.width + x].isFinite {
                pixels.insert([x, y])
            }
        }
        return pixels
    }

    // Counter-clockwise as the viewer sees it (y up) is clockwise in y-down pixel terms:
    // (0, 0) -> (0, 8) -> (8, 0) goes down the left side, then up to the top right.
    static let front = (vertex(0, 0), vertex(0, 8), vertex(8, 0))

    @Test func aTriangleCoversThePixelsWhoseCentresLieInside() {
        var target = Rasterizer(width: 10, height: 10)
        let (a, b, c) = Self.front
        #expect(Rasterizer.isFrontFacing(a, b, c))
        let written = target.drawTriangle(a, b, c)
        // Centre (x + 0.5, y + 0.5) is inside when x + y + 1 < 8, or on the hypotenuse
        // x + y + 1 == 8, which is neither a top nor a left edge here.
        var expected = Set<[Int]>()
        for y in 0..<10 {
            for x in 0..<10 where x + y + 1 < 8 { expected.insert([x, y]) }
        }
        #expect(Self.covered(target) == expected)
        #expect(written == expected.count)
    }

    @Test func sharedEdgesAreDrawnOnce() {
        // A square split along its diagonal: every pixel exactly once, none twice.
        var target = Rasterizer(width: 8, height: 8)
        let corners = [Self.vertex(0, 0), Self.vertex(0, 8), Self.vertex(8, 8), Self.vertex(8, 0)]
        let first = target.drawTriangle(corners[0], corners[1], corners[2])
        let second = target.drawTriangle(corners[0], corners[2], corners[3])
        #expect(first + second == 64)
        #expect(Self.covered(target).count == 64)
    }

    @Test func theDepthBufferKeepsTheNearerTriangle() {
        func triangle(depth: Float, gray: Float) -> (ScreenVertex, ScreenVertex, ScreenVertex) {
            (Self.vertex(0, 0, depth: depth, gray: gray), Self.vertex(0, 8, depth: depth, gray: gray), Self.vertex(8, 0, depth: depth, gray: gray))
        }
        let near = triangle(depth: 1, gray: 0.25), far = triangle(depth: 5, gray: 0.75)
        for nearFirst in [false, true] {
            var target = Rasterizer(width: 10, height: 10)
            for (a, b, c) in nearFirst ? [near, far] : [far, near] {
                target.drawTriangle(a, b, c)
            }
            #expect(target.color[0] == 0.25, "near drawn \(nearFirst ? "first" : "second")")
            #expect(target.depth[0] == 1)
        }
    }

    @Test func depthAndColourAreInterpolated() {
        var target = Rasterizer(width: 10, height: 10)
        target.drawTriangle(Self.vertex(0, 0, depth: 0, gray: 0), Self.vertex(0, 10, depth: 0, gray: 0), Self.vertex(10, 0, depth: 10, gray: 1))
        // Pixel (2, 3): centre (2.5, 3.5), barycentric weight of the third vertex = x / 10.
        #expect(abs(target.depth[3 * 10 + 2] - 2.5) < 1e-5)
        #expect(abs(target.color[3 * (3 * 10 + 2)] - 0.25) < 1e-5)
    }

    @Test func backFacesAreCulledUnlessAsked() {
        let (a, b, c) = Self.front
        var target = Rasterizer(width: 10, height: 10)
        #expect(!Rasterizer.isFrontFacing(a, c, b))
        #expect(target.drawTriangle(a, c, b) == 0)
        #expect(Self.covered(target).isEmpty)
        target.cullBackFaces = false
        #expect(target.drawTriangle(a, c, b) > 0)
    }

    @Test func trianglesOutsideOrDegenerateDrawNothing() {
        var target = Rasterizer(width: 10, height: 10)
        #expect(target.drawTriangle(Self.vertex(20, 20), Self.vertex(20, 30), Self.vertex(30, 20)) == 0)
        #expect(target.drawTriangle(Self.vertex(0, 0), Self.vertex(5, 5), Self.vertex(9, 9)) == 0)
        #expect(target.drawTriangle(Self.vertex(-5, -5), Self.vertex(-5, 50), Self.vertex(50, -5)) == 100, "clipped to the image")
    }
}
