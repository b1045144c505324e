
/// Saves animations in every export format: one entry point that checks the request
/// (format, rig, path) and dispatches to the format's writer. What `kmt_animation_save`
/// and `kmt_animation_save_to_memory` call.
enum AnimationExporter {
    /// Frames posed at once for the per-frame sequence formats (bounds the scratch memory).
    static let framesPerBatch = 32

    /// The format to write: `format`, or (nil) the one `path`'s extension names.
    /// Errors: KMT_ERR_INVALID_ARGUMENT for an extension that names no format.
    static func resolve(_ format: ExportFormat?, path: String) throws -> ExportFormat {
        if let format { return format }
        guard let inferred = ExportFormat(path: path) else {
            throw KMTError.invalidArgument("\(path): cannot tell the export format from the extension (use .json, .csv, .npy, .glb, .obj, .ply or .tsv, or name the format)")
        }
        return inferred
    }

    /// Checks that `format` can write `animation` with `rig`: geometry formats need a rig
    /// unless the animation carries its own mesh (vertices-space models), and refuse a
    /// rig when it does; GLB, Live Link CSV and mouth cues refuse vertices-space animations.
    static func check(_ animation: Animation, rig: Rig?, for format: ExportFormat) throws {
        if let template = animation.template {
            switch format {
            case .glb, .glbSparse:
                if rig != nil {
                    throw KMTError.invalidArgument("GLB export: the animation comes from a vertices-space model and carries its own \(template.vertexCount)-vertex template; pass no rig")
                }
                if template.faces.isEmpty {
                    throw KMTError.invalidArgument("GLB export: the model's template is a point set (no faces), and glTF animates triangle meshes; export PLY or NPY instead")
                }
                if animation.frameCount == 0 {
                    throw KMTError.invalidArgument("GLB export: the animation has no frames")
                }
            case .liveLinkCSV:
                throw KMTError.invalidArgument("Live Link Face CSV holds ARKit blendshape weights; this animation holds vertex offsets (a vertices-space model): export OBJ, PLY or NPY instead")
            case .npy, .obj, .ply:
                if rig != nil {
                    throw KMTError.invalidArgument("\(format.displayName) export: the animation comes from a vertices-space model and carries its own \(template.vertexCount)-vertex template; pass no rig")
                }
            case .mouthCuesTSV, .mouthCuesJSON, .mouthCuesXML, .mouthCuesDAT:
                throw KMTError.invalidArgument("mouth cues are read from ARKit mouth weights; this animation holds vertex offsets (a vertices-space model)")
            case .json, .csv, .phonesTSV:
                break
            }
        } else if format.needsRig, rig == nil {
            throw KMTError.invalidArgument("\(format.displayName) export needs a rig")
        } else if format.writesGeometry, let rig, rig.matcher.match(animation.channelNames).pairs.isEmpty {
            // A rig none of whose shapes the animation drives gives a file that never moves.
            let shapes = rig.shapeNames.prefix(4).joined(separator: ", ") + (rig.shapeCount > 4 ? ", ..." : "")
            throw KMTError.invalidArgument(
                "\(format.displayName) export: the rig's \(rig.shapeCount) shapes (\(shapes)) match none of the animation's \(animation.channelCount) channels (\(animation.channelNames.prefix(3).joined(separator: ", ")), ...), so nothing would move; name the shapes after the channels (docs/rig.md)")
        }
    }

    /// The mesh a geometry export poses, or nil when `format` writes weights (NPY without
    /// a rig for an animation of weights).
    static func mesh(_ animation: Animation, rig: Rig?, for format: ExportFormat) throws -> AnimationMesh? {
        guard format.writesGeometry, rig != nil || animation.template != nil else { return nil }
        return try AnimationMesh(animation: animation, rig: rig)
    }

    /// Writes `animation` to `path` in `format` (nil: by extension), atomically and
    /// durably: on any error no file is left half written, and existing files are
    /// untouched (`AtomicFileSet`). The sequence formats (OBJ, PLY) write one file per
    /// frame, `name_000001.ext` and so on beside `path` (see `SequencePaths`), replacing an
    /// earlier sequence of the same name as a whole, stale frames included
    /// (`SequenceFileSet`). `rig` is needed for GLB, OBJ and PLY, turns NPY
    /// into vertices, and is ignored by the weight and mouth-cue formats. An animation of a
    /// vertices-space model carries its own mesh: NPY, OBJ and PLY pose it without a rig
    /// (and refuse one); GLB, Live Link CSV and mouth cues refuse it. Returns the paths written.
    ///
    /// `options.progress` hears stage "export" (per batch of frames for OBJ and PLY,
    /// `encode`'s reports while encoding, 1.0 before the files are renamed into place) and may cancel
    /// it: KMT_ERR_CANCELLED, the staged files removed, existing files untouched.
    @discardableResult
    static func save(
        _ animation: Animation, rig: Rig?, path: String, format: ExportFormat?, options: ExportOptions = ExportOptions()
    ) throws -> [String] {
        guard !path.isEmpty else { throw KMTError.invalidArgument("path is empty") }
        let format = try resolve(format, path: path)
        try check(animation, rig: rig, for: format)
        let progress = options.progress
        if format.isSequence, let mesh = try mesh(animation, rig: rig, for: format) {
            guard animation.frameCount > 0 else { throw KMTError.invalidArgument("\(format.displayName) export: the animation has no frames") }
            var files = SequenceFileSet(paths: SequencePaths(pattern: path, count: animation.frameCount), count: animation.frameCount)
            do {
                try progress.report(0, stage: "export")
                try stageSequence(animation, mesh: mesh, format: format, into: &files, progress: progress)
                try progress.finish(stage: "export")
                try files.commit()
                return files.finalPaths
            } catch {
                files.discard()
                throw error
            }
        }
        var files = AtomicFileSet()
        do {
            try files.stage(encode(animation, rig: rig, format: format, options: options), at: path)
            try progress.finish(stage: "export")
            let paths = files.paths
            try files.commit()
            return paths
        } catch {
            files.discard()
            throw error
        }
    }

    /// The share of a single-file export's progress that encoding takes (the write after
    /// it is one flushed file).
    static let encodeShare = 0.9

    /// The bytes of a single-file export (JSON, CSV, Live Link CSV, NPY, GLB, mouth cues).
    /// Errors: KMT_ERR_INVALID_ARGUMENT for OBJ and PLY (one file per frame), for the
    /// mismatches `save` refuses (a geometry format without a rig, ...), and for mouth
    /// cues of an animation without ARKit mouth weights. `options`: the extended mouth
    /// shapes of the cue formats; `progress` hears stage "export" up to `encodeShare`
    /// while encoding (every 64 rows of JSON, CSV and Live Link CSV, per batch of frames
    /// for NPY of vertices, per morph target and block of weights for GLB) and may cancel
    /// (KMT_ERR_CANCELLED) mid-encoding, before any file is staged; the caller reports the end.
    static func encode(
        _ animation: Animation, rig: Rig?, format: ExportFormat, options: ExportOptions = ExportOptions()
    ) throws -> [UInt8] {
        try check(animation, rig: rig, for: format)
        let progress = options.progress
        try progress.report(0, stage: "export")
        let shapes = options.extendedShapes
        let encoding = progress.part(0...encodeShare, stage: "export")
        let bytes: [UInt8]
        switch format {
        case .json: bytes = try JSONExporter.encode(animation, progress: encoding ?? { _ in })
        case .csv: bytes = try CSVExporter.encode(animation, progress: encoding ?? { _ in })
        case .liveLinkCSV: bytes = try LiveLinkCSVExporter.encode(animation, progress: encoding)
        case .npy:
            bytes = try NPYExporter.encode(animation, mesh: mesh(animation, rig: rig, for: format), progress: encoding)
        case .glb, .glbSparse:
            if let template = animation.template {
                let (motionRig, weights) = try vertexMotionTargets(animation, template: template)
                bytes = try GLBExporter.encode(weights, rig: motionRig, sparseTargets: format == .glbSparse, progress: encoding)
            } else {
                guard let rig else { throw KMTError.invalidArgument("GLB export needs a rig") }
                bytes = try GLBExporter.encode(animation, rig: rig, sparseTargets: format == .glbSparse, progress: encoding)
            }
        case .mouthCuesTSV: bytes = try MouthCuesTSVExporter.encode(animation, extendedShapes: shapes)
        case .mouthCuesJSON: bytes = try MouthCuesJSONExporter.encode(animation, extendedShapes: shapes)
        case .mouthCuesXML: bytes = try MouthCuesXMLExporter.encode(animation, extendedShapes: shapes)
        case .mouthCuesDAT: bytes = try MouthCuesDATExporter.encode(animation, extendedShapes: shapes)
        case .phonesTSV: bytes = try PhonesTSVExporter.encode(animation)
        case .obj, .ply:
            throw KMTError.invalidArgument("\(format.displayName) export writes one file per frame and cannot be encoded into one buffer; save it to a path")
        }
        try progress.report(encodeShare, stage: "export")
        return bytes
    }

    /// Poses every frame and stages one OBJ or PLY file per frame, reporting each batch.
    private static func stageSequence(
        _ animation: Animation, mesh: AnimationMesh, format: ExportFormat, into files: inout SequenceFileSet,
        progress: ProgressReporter?
    ) throws {
        let frameCount = animation.frameCount
        let encodeFrame: (UnsafeBufferPointer<Float>, Int, Double) -> [UInt8]
        if format == .obj {
            let writer = OBJSequenceExporter(mesh: mesh)
            encodeFrame = { writer.encode(vertices: $0, frame: $1, frameCount: frameCount, time: $2) }
        } else {
            let writer = PLYSequenceExporter(mesh: mesh)
            encodeFrame = { writer.encode(vertices: $0, frame: $1, frameCount: frameCount, time: $2) }
        }
        let width = mesh.floatsPerFrame
        for start in stride(from: 0, to: frameCount, by: framesPerBatch) {
            let end = min(start + framesPerBatch, frameCount)
            let posed = try mesh.vertices(of: animation, frames: start..<end, mode: .absolute)
            try posed.withUnsafeBufferPointer { all in
                for frame in start..<end {
                    let vertices = UnsafeBufferPointer(rebasing: all[((frame - start) * width)..<((frame - start + 1) * width)])
                    let time = Double(frame) / animation.fps
                    try files.stage(encodeFrame(vertices, frame, time), frame: frame)
                }
            }
            try progress.report(Double(end) / Double(frameCount), stage: "export")
        }
    }

    /// A vertices-space animation as a rig of morph targets and their weights
    /// (`VertexMotionBasis`): the template's faces, a neutral and up to 64 targets named
    /// `motion0`, `motion1`, ...; the largest reconstruction error is logged.
    static func vertexMotionTargets(_ animation: Animation, template: VertexTemplate) throws -> (Rig, Animation) {
        let basis = VertexMotionBasis.fit(
            offsets: animation.values.data, frames: animation.frameCount, template: template.vertices)
        let names = (0..<basis.count).map { "motion\($0)" }
        let content = RigContent(
            vertices: basis.neutral, faces: template.faces, shapeNames: names, deltas: basis.targets, units: template.units,
            extraMetadata: [("description", "the motion of a vertices-space animation as morph targets")])
        let rig = try Rig(bytes: RigWriter.encode(content).bytes, source: "vertex motion")
        let weights = Animation(
            values: Tensor(shape: [animation.frameCount, basis.count], data: basis.weights), fps: animation.fps,
            channelNames: names, source: animation.source, model: animation.model)
        Log.info("GLB of a vertices-space animation: \(basis.count) morph targets over \(template.vertexCount) vertices, largest position error \(basis.largestError) \(template.units.rawValue)")
        return (rig, weights)
    }
}
