
/// The geometry an animation poses into, whichever way it gets it: a rig's blendshapes
/// driven by the animation's weights (`VertexSolver`), or, for an animation of a
/// vertices-space model, the model's template plus the animation's per-frame offsets.
/// What `kmt_animation_vertices` and the geometry exports (NPY of vertices, OBJ, PLY) pose
/// with. Immutable; any thread may use it.
struct AnimationMesh: Sendable {
    /// Where the posed positions come from.
    enum Source: Sendable {
        /// Blendshape weights posing a rig.
        case rig(VertexSolver)
        /// Offsets added to a vertices-space model's template.
        case template(VertexTemplate)
    }

    let source: Source
    /// Number of vertices V.
    let vertexCount: Int
    /// Triangles, F x 3 vertex indices, counter-clockwise seen from outside; empty for a
    /// template without faces (a point set).
    let faces: [Int32]
    /// Texture coordinates, V x 2 floats (rigs only), or nil.
    let uvs: [Float]?
    /// Unit neutral normals, V x 3 floats (rigs only), or nil.
    let normals: [Float]?
    /// The length unit of the positions.
    let units: RigUnits

    /// The mesh `animation` poses into: `rig` for an animation of blendshape weights, the
    /// model's template (with `rig` nil) for a vertices-space animation. Errors:
    /// KMT_ERR_INVALID_ARGUMENT for weights without a rig ("needs a rig") and for a rig
    /// given with a vertices-space animation (it carries its own mesh).
    init(animation: Animation, rig: Rig?) throws {
        switch (animation.template, rig) {
        case let (template?, nil):
            source = .template(template)
            vertexCount = template.vertexCount
            faces = template.faces
            uvs = nil
            normals = nil
            units = template.units
        case let (nil, rig?):
            source = .rig(VertexSolver(rig: rig, channelNames: animation.channelNames))
            vertexCount = rig.vertexCount
            faces = rig.faces
            uvs = rig.uvs
            normals = rig.normals
            units = rig.units
        case let (template?, _?):
            throw KMTError.invalidArgument("the animation comes from a vertices-space model and carries its own \(template.vertexCount)-vertex template; pass no rig (NULL) to pose it")
        case (nil, nil):
            throw KMTError.invalidArgument("posing this animation needs a rig: its channels are blendshape weights (only animations of vertices-space models carry their own mesh)")
        }
    }

    /// Number of triangles F (0 for a point set).
    var faceCount: Int { faces.count / 3 }
    /// Floats one frame of vertices takes: V * 3.
    var floatsPerFrame: Int { vertexCount * 3 }

    /// Poses frames `frames` of `animation` into `output`, which must hold
    /// `frames.count * floatsPerFrame` floats: positions (`.absolute`) or offsets from the
    /// neutral mesh (`.offsets`). Errors: KMT_ERR_INVALID_ARGUMENT for another animation's
    /// channels or a range outside the animation; KMT_ERR_BUFFER_TOO_SMALL for a short
    /// `output`.
    func vertices(
        of animation: Animation, frames: Range<Int>, mode: VertexMode, into output: UnsafeMutableBufferPointer<Float>
    ) throws {
        switch source {
        case let .rig(solver):
            try solver.vertices(of: animation, frames: frames, mode: mode, into: output)
        case let .template(template):
            guard animation.template != nil, animation.channelCount == floatsPerFrame else {
                throw KMTError.invalidArgument("the animation's \(animation.channelCount) channels are not the \(floatsPerFrame) offsets of this \(vertexCount)-vertex template")
            }
            guard frames.lowerBound >= 0, frames.upperBound <= animation.frameCount else {
                throw KMTError.invalidArgument("frames \(frames) lie outside the animation's \(animation.frameCount) frames")
            }
            let (needed, overflow) = frames.count.multipliedReportingOverflow(by: floatsPerFrame)
            guard !overflow else { throw KMTError(.outOfMemory, "\(frames.count) frames of \(vertexCount) vertices overflow a size") }
            guard output.count >= needed else {
                throw KMTError(.bufferTooSmall, "buffer holds \(output.count) floats, \(needed) needed")
            }
            guard needed > 0, let destination = output.baseAddress else { return }
            let width = floatsPerFrame
            animation.values.data.withUnsafeBufferPointer { values in
                let offsets = values.baseAddress! + frames.lowerBound * width
                switch mode {
                case .offsets:
                    destination.update(from: offsets, count: needed)
                case .absolute:
                    template.vertices.withUnsafeBufferPointer { neutral in
                        for frame in 0..<frames.count {
                            let row = frame * width
                            for index in 0..<width { destination[row + index] = neutral[index] + offsets[row + index] }
                        }
                    }
                }
            }
        }
    }

    /// Poses frames `frames` of `animation` into a new array of frames.count x V x 3 floats.
    func vertices(of animation: Animation, frames: Range<Int>, mode: VertexMode) throws -> [Float] {
        let (needed, overflow) = frames.count.multipliedReportingOverflow(by: floatsPerFrame)
        guard !overflow else { throw KMTError(.outOfMemory, "\(frames.count) frames of \(vertexCount) vertices overflow a size") }
        var result = [Float](repeating: 0, count: needed)
        try result.withUnsafeMutableBufferPointer { try vertices(of: animation, frames: frames, mode: mode, into: $0) }
        return result
    }
}
