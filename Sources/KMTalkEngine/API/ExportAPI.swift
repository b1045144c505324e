import CKMTalk

/// The format a `kmt_export_format` names; nil for KMT_EXPORT_AUTO. Errors:
/// KMT_ERR_INVALID_ARGUMENT for a value the header does not define.
func exportFormat(_ format: kmt_export_format) throws -> ExportFormat? {
    switch format {
    case KMT_EXPORT_AUTO: return nil
    case KMT_EXPORT_JSON: return .json
    case KMT_EXPORT_CSV: return .csv
    case KMT_EXPORT_LIVE_LINK_CSV: return .liveLinkCSV
    case KMT_EXPORT_NPY: return .npy
    case KMT_EXPORT_GLB: return .glb
    case KMT_EXPORT_OBJ: return .obj
    case KMT_EXPORT_PLY: return .ply
    case KMT_EXPORT_MOUTH_CUES_TSV: return .mouthCuesTSV
    case KMT_EXPORT_MOUTH_CUES_JSON: return .mouthCuesJSON
    case KMT_EXPORT_MOUTH_CUES_XML: return .mouthCuesXML
    case KMT_EXPORT_MOUTH_CUES_DAT: return .mouthCuesDAT
    case KMT_EXPORT_GLB_SPARSE: return .glbSparse
    case KMT_EXPORT_PHONES_TSV: return .phonesTSV
    default: throw KMTError.invalidArgument("format \(Int32(bitPattern: UInt32(truncatingIfNeeded: format.rawValue))) is not a kmt_export_format")
    }
}

/// The animation behind a handle, or KMT_ERR_INVALID_ARGUMENT for NULL.
private func requireAnimation(_ handle: OpaquePointer?) throws -> Animation {
    guard let handle else { throw KMTError.invalidArgument("animation is NULL") }
    return Handle.borrow(handle, as: Animation.self)
}

/// The default export options, struct_size filled in.
nonisolated(unsafe) private let exportDefaults = kmt_export_params(
    struct_size: MemoryLayout<kmt_export_params>.size, progress: nil, progress_user_data: nil,
    mouth_cue_extended_shapes: nil)

/// The offsets of kmt_export_params' pointer fields (a struct_size may not split one).
private let exportPointerFields = [
    MemoryLayout<kmt_export_params>.offset(of: \.progress)!,
    MemoryLayout<kmt_export_params>.offset(of: \.progress_user_data)!,
    MemoryLayout<kmt_export_params>.offset(of: \.mouth_cue_extended_shapes)!,
]

/// Implements `kmt_export_params_init` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_export_params_init(_ params: UnsafeMutablePointer<kmt_export_params>?, _ structSize: Int) -> kmt_status {
    apiCall {
        try initParams(
            params, structSize: structSize, defaults: exportDefaults, name: "kmt_export_params",
            pointerFields: exportPointerFields)
    }
}

/// The caller's export params as engine options (NULL: the defaults). Errors:
/// KMT_ERR_INVALID_ARGUMENT for a bad struct_size or extended-shape letters.
private func exportOptions(_ params: UnsafePointer<kmt_export_params>?) throws -> ExportOptions {
    let p = try readParams(params, defaults: exportDefaults, name: "kmt_export_params", pointerFields: exportPointerFields)
    var options = ExportOptions()
    if let letters = p.mouth_cue_extended_shapes {
        options.extendedShapes = try MouthShape.extendedShapes(parsing: String(cString: letters))
    }
    options.progress = progressCallback(p.progress, p.progress_user_data).map(ProgressReporter.init)
    return options
}

/// `kmt_animation_save` and `kmt_animation_save_with_params`: saves and logs.
private func save(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
    _ format: kmt_export_format, _ params: UnsafePointer<kmt_export_params>?
) -> kmt_status {
    apiCall {
        let animation = try requireAnimation(animationHandle)
        let path = try requireString(path, "path")
        let format = try exportFormat(format)
        let options = try exportOptions(params)
        let rig = rigHandle.map { Handle.borrow($0, as: Rig.self) }
        let start = StageClock.now()
        let written: [String]
        do {
            written = try AnimationExporter.save(animation, rig: rig, path: path, format: format, options: options)
        } catch let error as KMTError where error.status == KMT_ERR_CANCELLED {
            throw KMTError(KMT_ERR_CANCELLED, "\(path): \(error.message); nothing was written, existing files are untouched")
        }
        Log.info("saved \(animation.frameCount) frames to \(written.count == 1 ? path : "\(written.count) files like \(written.first ?? path)") in \(Int((StageClock.now() - start) * 1000)) ms")
    }
}

/// Implements `kmt_animation_save` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_save(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
    _ format: kmt_export_format
) -> kmt_status {
    save(animationHandle, rigHandle, path, format, nil)
}

/// Implements `kmt_animation_save_with_params` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_save_with_params(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
    _ format: kmt_export_format, _ params: UnsafePointer<kmt_export_params>?
) -> kmt_status {
    save(animationHandle, rigHandle, path, format, params)
}

/// `kmt_animation_save_to_memory` and its `_with_params` variant.
private func saveToMemory(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ format: kmt_export_format,
    _ params: UnsafePointer<kmt_export_params>?, _ buffer: UnsafeMutableRawPointer?, _ bufferSize: Int,
    _ outSize: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outSize?.pointee = 0
    return apiCall {
        let animation = try requireAnimation(animationHandle)
        guard let format = try exportFormat(format) else {
            throw KMTError.invalidArgument("KMT_EXPORT_AUTO needs a path to read the extension of; name the format")
        }
        let options = try exportOptions(params)
        let rig = rigHandle.map { Handle.borrow($0, as: Rig.self) }
        let bytes = try AnimationExporter.encode(animation, rig: rig, format: format, options: options)
        // The end is reported by the call that delivers the bytes, not by a size query.
        if bufferSize < 0 || (bufferSize >= bytes.count && buffer != nil) {
            try options.progress.finish(stage: "export")
        }
        try copyToCallerBuffer(
            bytes, buffer?.assumingMemoryBound(to: UInt8.self), capacity: bufferSize, outCount: outSize, unit: "bytes")
    }
}

/// Implements `kmt_animation_save_to_memory` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_save_to_memory(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ format: kmt_export_format,
    _ buffer: UnsafeMutableRawPointer?, _ bufferSize: Int, _ outSize: UnsafeMutablePointer<Int>?
) -> kmt_status {
    saveToMemory(animationHandle, rigHandle, format, nil, buffer, bufferSize, outSize)
}

/// Implements `kmt_animation_save_to_memory_with_params` from include/kmtalk.h, which
/// documents it.
@c @implementation
public func kmt_animation_save_to_memory_with_params(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ format: kmt_export_format,
    _ params: UnsafePointer<kmt_export_params>?, _ buffer: UnsafeMutableRawPointer?, _ bufferSize: Int,
    _ outSize: UnsafeMutablePointer<Int>?
) -> kmt_status {
    saveToMemory(animationHandle, rigHandle, format, params, buffer, bufferSize, outSize)
}

/// Implements `kmt_animation_save_into_glb` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_save_into_glb(
    _ animationHandle: OpaquePointer?, _ assetPath: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?
) -> kmt_status {
    apiCall {
        let animation = try requireAnimation(animationHandle)
        let assetPath = try requireString(assetPath, "asset_path")
        let path = try requireString(path, "path")
        let start = StageClock.now()
        let result = try GLBAnimationInjector.inject(animation, into: try FileBytes.read(assetPath), source: assetPath)
        try AtomicFileSet.write(result.bytes, to: path)
        let driven = result.nodes.map { "\($0.name) (\($0.drivenTargets) of \($0.targetCount) targets)" }.joined(separator: ", ")
        Log.info("wrote \(animation.frameCount) frames as animation \"\(result.animationName)\" into \(path), driving \(driven), in \(Int((StageClock.now() - start) * 1000)) ms")
    }
}
