
/// What the preview camera frames.
enum PreviewCrop: String, CaseIterable {
    /// The whole neutral mesh.
    case full
    /// The lips and jaw: a square around the mouth.
    case mouth
}

/// Chooses the camera for a mesh: its neutral bounding box, or for `.mouth` a square around
/// the vertices that move most with the lips.
enum PreviewFraming {
    /// The camera for `mesh` at `width` x `height`.
    static func camera(mesh: PreviewMesh, crop: PreviewCrop, width: Int, height: Int) throws -> PreviewCamera {
        let vertices = mesh.neutral
        let full = PreviewCamera.framing(vertices: vertices, width: width, height: height)
        guard crop == .mouth else { return full }
        let box = BoundingBox(vertices)
        let headSize = max(box.size(0), box.size(1))
        let motion = mesh.lipMotion
        let strongest = motion.max() ?? 0
        guard strongest > 0 else {
            // No lip motion known: the lower third of the face.
            return PreviewCamera(centerX: box.center(0), centerY: box.low[1] + box.size(1) * 0.3,
                                 extent: headSize * 0.5, width: width, height: height)
        }
        // Centred a little below the lips (motion-weighted), so the dropping jaw stays in view.
        var weight: Float = 0, x: Float = 0, y: Float = 0
        for vertex in 0..<mesh.vertexCount where motion[vertex] >= 0.35 * strongest {
            let w = motion[vertex] * motion[vertex]
            weight += w
            x += w * vertices[3 * vertex]
            y += w * vertices[3 * vertex + 1]
        }
        let extent = 0.42 * headSize
        return PreviewCamera(centerX: x / weight, centerY: y / weight - 0.1 * extent, extent: extent, width: width, height: height)
    }

    /// The cavity-shading radius for a rig's neutral `vertices`: 8% of the head's larger extent, about half a
    /// mouth's width.
    static func cavityRadius(vertices: [Float]) -> Float {
        let box = BoundingBox(vertices)
        return 0.15 * max(box.size(0), box.size(1))
    }
}
