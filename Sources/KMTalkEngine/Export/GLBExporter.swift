/// Writes an animation on a rig as one glTF 2.0 binary (GLB) that Blender, three.js,
/// Unity and Unreal import as an animated blendshape mesh:
///
/// - one mesh, one triangle primitive: the rig's neutral positions (`POSITION`, with the
///   min/max the spec requires), `NORMAL` (the rig's, else computed from the faces),
///   `TEXCOORD_0` when the rig has texture coordinates (v flipped: glTF's v points down),
///   and the triangles (`indices`, unsigned short when V <= 65536, else unsigned int);
/// - one morph target per rig shape, its `POSITION` deltas (with min/max), the shape names
///   in `mesh.extras.targetNames` (what Blender and three.js name the shape keys with),
///   default `mesh.weights` 0. Dense by default (every vertex's delta, what every importer
///   reads); with `sparseTargets` each target is a sparse accessor holding only the
///   vertices the shape moves (about 6x smaller for the default head; glTF 2.0 core, read
///   by Blender, three.js and Babylon.js);
/// - one node with the mesh, in the default scene;
/// - one animation, "speech": a `weights` channel on that node, its sampler's input the
///   frame times in seconds (with min/max), its output frames x shapes weights, LINEAR.
///   The animation's channels are mapped onto the rig's shapes by `ChannelMatcher`;
///   shapes no channel drives stay 0.
///
/// Positions and deltas are converted from the rig's units to metres (glTF's unit); the
/// axes already agree (+y up, the face looking towards +z). `asset.generator` is
/// "KMTalk <version>". Every buffer view starts at a multiple of 4 bytes.
enum GLBExporter {
    /// Frames of weights gathered between two progress reports.
    static let framesPerReport = 1024

    /// Metres per unit of `units`.
    static func metres(per units: RigUnits) -> Float {
        switch units {
        case .meters: return 1
        case .centimeters: return 0.01
        case .millimeters: return 0.001
        }
    }

    /// The GLB bytes for `animation` on `rig`. `progress` hears the share done (0...1):
    /// after the neutral mesh, after each morph target, and after each block of frames of
    /// the weights; it may throw to cancel. Errors: KMT_ERR_INVALID_ARGUMENT for an
    /// animation without frames (a glTF sampler needs one keyframe) or a result over 4 GiB.
    static func encode(
        _ animation: Animation, rig: Rig, sparseTargets: Bool = false, progress: ((Double) throws -> Void)? = nil
    ) throws -> [UInt8] {
        let frameCount = animation.frameCount
        guard frameCount > 0 else { throw KMTError.invalidArgument("GLB export: the animation has no frames") }
        let vertexCount = rig.vertexCount
        let shapeCount = rig.shapeCount
        let scale = metres(per: rig.units)

        // Estimate first so a huge request fails before it allocates.
        let perVertex = 12 + 12 + (rig.uvs == nil ? 0 : 8)
        let estimate = Double(vertexCount) * Double(perVertex + 12 * shapeCount) + Double(rig.faceCount) * 12
            + Double(frameCount) * Double(4 + 4 * shapeCount)
        guard estimate < Double(UInt32.max) - 1_048_576 else {
            throw KMTError.invalidArgument("GLB export: \(frameCount) frames on \(vertexCount) vertices x \(shapeCount) shapes exceed the format's 4 GiB limit")
        }
        // Shares of the work: the neutral mesh, the targets (their deltas dominate), the weights.
        let meshShare = 0.1, targetShare = 0.7
        var buffer = GLTFBufferBuilder(capacity: Int(estimate) + 64)
        var attributes: [String] = []

        // Neutral mesh.
        let positions = rig.vertices.map { $0 * scale }
        let positionBounds = positions.withUnsafeBufferPointer { GLTFBufferBuilder.bounds($0, components: 3) }
        let positionView = buffer.addView(target: .arrayBuffer) { $0.append(floats: positions) }
        let position = buffer.addAccessor(
            view: positionView, componentType: .float, count: vertexCount, type: .vec3, bounds: positionBounds)
        attributes.append("\"POSITION\":\(position)")

        let normals = rig.normals.map { given in MeshNormals.normalized(given.map(Double.init), vertexCount: vertexCount) }
            ?? MeshNormals.compute(vertices: rig.vertices, faces: rig.faces, vertexCount: vertexCount)
        let normalView = buffer.addView(target: .arrayBuffer) { $0.append(floats: normals) }
        attributes.append("\"NORMAL\":\(buffer.addAccessor(view: normalView, componentType: .float, count: vertexCount, type: .vec3))")

        if let uvs = rig.uvs {
            let flipped = (0..<uvs.count).map { $0 % 2 == 0 ? uvs[$0] : 1 - uvs[$0] }
            let uvView = buffer.addView(target: .arrayBuffer) { $0.append(floats: flipped) }
            attributes.append("\"TEXCOORD_0\":\(buffer.addAccessor(view: uvView, componentType: .float, count: vertexCount, type: .vec2))")
        }

        let shortIndices = vertexCount <= Int(UInt16.max) + 1
        let indexView = buffer.addView(target: .elementArrayBuffer) { out in
            for index in rig.faces {
                if shortIndices { out.append(uint16: UInt16(index)) } else { out.append(uint32: UInt32(index)) }
            }
        }
        let indices = buffer.addAccessor(
            view: indexView, componentType: shortIndices ? .unsignedShort : .unsignedInt, count: rig.faces.count, type: .scalar)
        try progress?(meshShare)

        // Morph targets: one view, one accessor per shape at its offset (dense), or one view
        // of indices and one of values shared by the shapes' sparse accessors.
        var targets: [String] = []
        if shapeCount > 0 {
            let deltas = rig.deltas.data.map { $0 * scale }
            let perShape: (Int) throws -> Void = { done in
                try progress?(meshShare + targetShare * Double(done) / Double(shapeCount))
            }
            let accessors = sparseTargets
                ? try addSparseTargets(deltas, vertexCount: vertexCount, shapeCount: shapeCount, to: &buffer, progress: perShape)
                : try addDenseTargets(deltas, vertexCount: vertexCount, shapeCount: shapeCount, to: &buffer, progress: perShape)
            targets = accessors.map { "{\"POSITION\":\($0)}" }
        }

        // The weights animation.
        var animations = ""
        if shapeCount > 0 {
            let times = (0..<frameCount).map { Float(Double($0) / animation.fps) }
            let timeView = buffer.addView(target: nil) { $0.append(floats: times) }
            let input = buffer.addAccessor(
                view: timeView, componentType: .float, count: frameCount, type: .scalar,
                bounds: ([times[0]], [times[frameCount - 1]]))
            let weights = try shapeWeights(animation, rig: rig) { done in
                try progress?(meshShare + targetShare + (1 - meshShare - targetShare) * done)
            }
            let weightView = buffer.addView(target: nil) { $0.append(floats: weights) }
            let output = buffer.addAccessor(view: weightView, componentType: .float, count: frameCount * shapeCount, type: .scalar)
            animations = ",\"animations\":[{\"name\":\"speech\",\"samplers\":[{\"input\":\(input),\"output\":\(output),\"interpolation\":\"LINEAR\"}],\"channels\":[{\"sampler\":0,\"target\":{\"node\":0,\"path\":\"weights\"}}]}]"
        }
        buffer.finish()

        var primitive = "{\"attributes\":{" + attributes.joined(separator: ",") + "},\"indices\":\(indices),\"material\":0,\"mode\":4"
        if !targets.isEmpty { primitive += ",\"targets\":[" + targets.joined(separator: ",") + "]" }
        primitive += "}"
        var mesh = "{\"name\":\"face\",\"primitives\":[\(primitive)]"
        if shapeCount > 0 {
            mesh += ",\"weights\":[" + [String](repeating: "0", count: shapeCount).joined(separator: ",") + "]"
            mesh += ",\"extras\":{\"targetNames\":" + JSONText.stringArray(rig.shapeNames) + "}"
        }
        mesh += "}"

        var assetExtras: [String] = []
        // File names only: an asset shared with others must not carry the author's local paths.
        func fileName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
        if let source = animation.source { assetExtras.append("\"source\":\(JSONText.quoted(fileName(source)))") }
        if let model = animation.model { assetExtras.append("\"model\":\(JSONText.quoted(fileName(model)))") }
        assetExtras.append("\"fps\":\(animation.fps)")
        var json = "{\"asset\":{\"version\":\"2.0\",\"generator\":\(JSONText.quoted("KMTalk \(libraryVersion)"))"
        json += ",\"extras\":{" + assetExtras.joined(separator: ",") + "}}"
        json += ",\"scene\":0,\"scenes\":[{\"name\":\"KMTalk\",\"nodes\":[0]}]"
        json += ",\"nodes\":[{\"name\":\"face\",\"mesh\":0}]"
        json += ",\"meshes\":[\(mesh)]"
        // A skin-toned dielectric: glTF's default material is fully metallic, which viewers
        // without an environment map (three.js, Windows 3D Viewer) render black.
        json += ",\"materials\":[{\"name\":\"skin\",\"pbrMetallicRoughness\":{\"baseColorFactor\":[0.8,0.62,0.52,1],\"metallicFactor\":0,\"roughnessFactor\":0.6}}]"
        json += animations
        json += ",\"buffers\":[{\"byteLength\":\(buffer.binary.count)}]"
        json += ",\"bufferViews\":[" + buffer.views.joined(separator: ",") + "]"
        json += ",\"accessors\":[" + buffer.accessors.joined(separator: ",") + "]"
        json += "}"
        return try GLBChunkWriter.encode(json: json, binary: buffer.binary.bytes)
    }

    /// One dense POSITION accessor per shape (V deltas each) in one strided view.
    /// `progress` hears the number of shapes done after each.
    static func addDenseTargets(
        _ deltas: [Float], vertexCount: Int, shapeCount: Int, to buffer: inout GLTFBufferBuilder,
        progress: (Int) throws -> Void = { _ in }
    ) throws -> [Int] {
        let deltaView = buffer.addView(target: .arrayBuffer, byteStride: 12) { $0.append(floats: deltas) }
        return try deltas.withUnsafeBufferPointer { all in
            try (0..<shapeCount).map { shape in
                let range = (shape * vertexCount * 3)..<((shape + 1) * vertexCount * 3)
                let bounds = GLTFBufferBuilder.bounds(UnsafeBufferPointer(rebasing: all[range]), components: 3)
                let accessor = buffer.addAccessor(
                    view: deltaView, byteOffset: range.lowerBound * 4, componentType: .float, count: vertexCount,
                    type: .vec3, bounds: bounds)
                try progress(shape + 1)
                return accessor
            }
        }
    }

    /// One sparse POSITION accessor per shape: the indices of the vertices whose delta is
    /// not zero (increasing) and their deltas. A shape that moves nothing lists vertex 0
    /// with a zero delta (a sparse accessor needs at least one entry). `progress` hears
    /// the number of shapes whose moved vertices are found.
    static func addSparseTargets(
        _ deltas: [Float], vertexCount: Int, shapeCount: Int, to buffer: inout GLTFBufferBuilder,
        progress: (Int) throws -> Void = { _ in }
    ) throws -> [Int] {
        var moved: [[Int]] = []
        try deltas.withUnsafeBufferPointer { all in
            for shape in 0..<shapeCount {
                let base = shape * vertexCount * 3
                let vertices = (0..<vertexCount).filter { v in
                    all[base + 3 * v] != 0 || all[base + 3 * v + 1] != 0 || all[base + 3 * v + 2] != 0
                }
                moved.append(vertices.isEmpty ? [0] : vertices)
                try progress(shape + 1)
            }
        }
        let indexType: GLTFBufferBuilder.ComponentType = vertexCount <= Int(UInt16.max) + 1 ? .unsignedShort : .unsignedInt
        // Each shape's indices start at a multiple of 4 bytes, so either index type stays aligned.
        var indexOffsets: [Int] = []
        let indexView = buffer.addView(target: nil) { out in
            let start = out.count
            for vertices in moved {
                out.padToMultiple(of: 4, with: 0)
                indexOffsets.append(out.count - start)
                for v in vertices {
                    if indexType == .unsignedShort { out.append(uint16: UInt16(v)) } else { out.append(uint32: UInt32(v)) }
                }
            }
        }
        var valueOffsets: [Int] = []
        var bounds: [(min: [Float], max: [Float])] = []
        let valueView = buffer.addView(target: nil) { out in
            let start = out.count
            for (shape, vertices) in moved.enumerated() {
                valueOffsets.append(out.count - start)
                var values = [Float]()
                values.reserveCapacity(vertices.count * 3)
                for v in vertices { values += deltas[(shape * vertexCount + v) * 3 ..< (shape * vertexCount + v) * 3 + 3] }
                var box = values.withUnsafeBufferPointer { GLTFBufferBuilder.bounds($0, components: 3) }
                if vertices.count < vertexCount {  // the vertices left out are zero
                    box = (box.min.map { Swift.min($0, 0) }, box.max.map { Swift.max($0, 0) })
                }
                bounds.append(box)
                out.append(floats: values)
            }
        }
        return moved.indices.map { shape in
            buffer.addSparseAccessor(
                componentType: .float, count: vertexCount, type: .vec3, bounds: bounds[shape], sparseCount: moved[shape].count,
                indicesView: indexView, indicesOffset: indexOffsets[shape], indexType: indexType,
                valuesView: valueView, valuesOffset: valueOffsets[shape])
        }
    }

    /// The animation's weights mapped onto the rig's shapes, frames x S row-major: each
    /// shape takes the value of the channel that drives it, 0 when none does. `progress`
    /// hears the share of the frames done every `framesPerReport` frames.
    static func shapeWeights(_ animation: Animation, rig: Rig, progress: (Double) throws -> Void = { _ in }) rethrows -> [Float] {
        let mapping = rig.matcher.match(animation.channelNames)
        if !mapping.unmatchedShapes.isEmpty {
            Log.debug("GLB export: rig shapes no channel drives (weight 0): \(mapping.unmatchedShapes.map { rig.shapeNames[$0] }.joined(separator: ", "))")
        }
        let shapeCount = rig.shapeCount
        let channelCount = animation.channelCount
        var weights = [Float](repeating: 0, count: animation.frameCount * shapeCount)
        let frameCount = animation.frameCount
        try animation.values.data.withUnsafeBufferPointer { values in
            for start in stride(from: 0, to: frameCount, by: framesPerReport) {
                let end = min(start + framesPerReport, frameCount)
                for (shape, driver) in mapping.drivers.enumerated() {
                    guard let source = driver?.source else { continue }
                    for frame in start..<end {
                        weights[frame * shapeCount + shape] = values[frame * channelCount + source]
                    }
                }
                try progress(Double(end) / Double(frameCount))
            }
        }
        return weights
    }
}
