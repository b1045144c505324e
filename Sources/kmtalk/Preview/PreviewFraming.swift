
/// What the preview camera frames.
enum PreviewCrop: String, CaseIterable {
    /// The whole neutral mesh.
    case full
    /// The lips and jaw: a square around the mouth.
    case mouth
}

/// Chooses the camera for a rig: its neutral bounding box, or for `.mouth` a square around
/// the vertices the lip shapes move most.
enum PreviewFraming {
    /// Shapes whose motion marks the lips, in order of preference (matched by name like
    /// model channels, so ICT or snake-case rigs work too).
    static let lipChannels = ["mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper"]
    /// Used when the rig has none of `lipChannels`.
    static let fallbackChannels = ["mouthClose", "jawOpen"]

    /// The camera for `rig` at `width` x `height`.
    static func camera(rig: RigHandle, crop: PreviewCrop, width: Int, height: Int) throws -> PreviewCamera {
        let vertices = try rig.vertices()
        let full = PreviewCamera.framing(vertices: vertices, width: width, height: height)
        guard crop == .mouth else { return full }
        let box = BoundingBox(vertices)
        let headSize = max(box.size(0), box.size(1))
        var shapes = Self.driven(try rig.match(lipChannels))
        if shapes.isEmpty { shapes = Self.driven(try rig.match(fallbackChannels)) }
        let vertexCount = rig.vertexCount
        var motion = [Float](repeating: 0, count: vertexCount)
        for shape in shapes {
            let deltas = try rig.deltas(shape: shape)
            for vertex in 0..<vertexCount {
                let x = deltas[3 * vertex], y = deltas[3 * vertex + 1], z = deltas[3 * vertex + 2]
                motion[vertex] += (x * x + y * y + z * z).squareRoot()
            }
        }
        let strongest = motion.max() ?? 0
        guard strongest > 0 else {
            // No lip shapes: the lower third of the face.
            return PreviewCamera(centerX: box.center(0), centerY: box.low[1] + box.size(1) * 0.3,
                                 extent: headSize * 0.5, width: width, height: height)
        }
        // Centred a little below the lips (motion-weighted), so the dropping jaw stays in view.
        var weight: Float = 0, x: Float = 0, y: Float = 0
        for vertex in 0..<vertexCount where motion[vertex] >= 0.35 * strongest {
            let w = motion[vertex] * motion[vertex]
            weight += w
            x += w * vertices[3 * vertex]
            y += w * vertices[3 * vertex + 1]
        }
        let extent = 0.42 * headSize
        return PreviewCamera(centerX: x / weight, centerY: y / weight - 0.1 * extent, extent: extent, width: width, height: height)
    }

    /// The shapes some name drives, from `RigHandle.match`.
    static func driven(_ drivers: [Int?]) -> [Int] {
        drivers.indices.filter { drivers[$0] != nil }
    }

    /// The cavity-shading radius for a rig's neutral `vertices`: 8% of the head's larger extent, about half a
    /// mouth's width.
    static func cavityRadius(vertices: [Float]) -> Float {
        let box = BoundingBox(vertices)
        return 0.15 * max(box.size(0), box.size(1))
    }
}
