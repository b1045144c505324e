import CKMTalk

/// The default rig import options, struct_size filled in.
nonisolated(unsafe) private let importDefaults = kmt_rig_import_params(
    struct_size: MemoryLayout<kmt_rig_import_params>.size, mesh: nil, neutral: nil, units: nil, flags: 0, reserved: 0,
    progress: nil, progress_user_data: nil)

/// The offsets of kmt_rig_import_params' pointer fields (a struct_size may not split one).
private let importPointerFields = [
    MemoryLayout<kmt_rig_import_params>.offset(of: \.mesh)!,
    MemoryLayout<kmt_rig_import_params>.offset(of: \.neutral)!,
    MemoryLayout<kmt_rig_import_params>.offset(of: \.units)!,
    MemoryLayout<kmt_rig_import_params>.offset(of: \.progress)!,
    MemoryLayout<kmt_rig_import_params>.offset(of: \.progress_user_data)!,
]

/// Implements `kmt_rig_import_params_init` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_import_params_init(_ params: UnsafeMutablePointer<kmt_rig_import_params>?, _ structSize: Int) -> kmt_status {
    apiCall {
        try initParams(
            params, structSize: structSize, defaults: importDefaults, name: "kmt_rig_import_params",
            pointerFields: importPointerFields)
    }
}

/// Reads the caller's import params (older, smaller structs: no progress callback).
private func readImportParams(_ params: UnsafePointer<kmt_rig_import_params>?) throws -> kmt_rig_import_params {
    try readParams(params, defaults: importDefaults, name: "kmt_rig_import_params", pointerFields: importPointerFields)
}

/// Implements `kmt_rig_import_file` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_import_file(
    _ path: UnsafePointer<CChar>?, _ params: UnsafePointer<kmt_rig_import_params>?,
    _ outRig: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outRig?.pointee = nil
    return apiCall {
        let out = try requireOut(outRig, "out_rig")
        let path = try requireString(path, "path")
        guard !path.isEmpty else { throw KMTError.invalidArgument("path is empty") }
        let options = try readImportParams(params)
        let known = KMT_RIG_IMPORT_ALL_OBJS | KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES
        guard options.flags & ~known == 0, options.reserved == 0 else {
            throw KMTError.invalidArgument("kmt_rig_import_params.flags has unknown bits (\(options.flags)) or reserved is not 0")
        }
        let allowOutside = options.flags & KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES != 0
        let reporter = progressCallback(options.progress, options.progress_user_data).map(ProgressReporter.init)
        // Reading the files is the work; building and checking the rig after it is quick.
        let reading = reporter.part(0...0.95, stage: "import")
        try reporter.report(0, stage: "import")
        let start = StageClock.now()
        let imported: RigImport
        if DirectoryListing.isDirectory(path) {
            var units: RigUnits?
            if let text = options.units.map({ String(cString: $0) }) {
                guard let parsed = RigUnits(rawValue: text) else {
                    throw KMTError.invalidArgument("kmt_rig_import_params.units '\(text)' is not one of m, cm, mm")
                }
                units = parsed
            }
            imported = try OBJFolderImporter.importRig(
                directory: path, neutral: options.neutral.map { String(cString: $0) }, units: units,
                useManifest: options.flags & KMT_RIG_IMPORT_ALL_OBJS == 0, allowOutsideFiles: allowOutside,
                progress: reading)
        } else {
            imported = try GLTFImporter.importRig(
                path: path, mesh: options.mesh.map { String(cString: $0) }, allowOutsideFiles: allowOutside,
                progress: reading)
        }
        for note in imported.notes { Log.info("\(path): \(note)") }
        var content = imported.rig
        content.extraMetadata.append(("generator", "kmt_rig_import_file \(libraryVersion)"))
        let rig = try Rig(bytes: RigWriter.encode(content).bytes, source: path)
        try reporter.finish(stage: "import")
        Log.info("imported rig \(path): \(rig.vertexCount) vertices, \(rig.faceCount) faces, \(rig.shapeCount) shapes in \(Int((StageClock.now() - start) * 1000)) ms")
        out.pointee = Handle.retain(rig)
    }
}

/// Implements `kmt_rig_save` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_save(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ flags: UInt32) -> kmt_status {
    apiCall {
        guard let handle else { throw KMTError.invalidArgument("rig is NULL") }
        let path = try requireString(path, "path")
        guard !path.isEmpty else { throw KMTError.invalidArgument("path is empty") }
        guard flags & ~KMT_RIG_SAVE_HALF == 0 else { throw KMTError.invalidArgument("flags has unknown bits (\(flags))") }
        let rig = Handle.borrow(handle, as: Rig.self)
        let content = RigContent(
            vertices: rig.vertices, faces: rig.faces, shapeNames: rig.shapeNames, deltas: rig.deltas.data,
            uvs: rig.uvs, normals: rig.normals, units: rig.units, extraMetadata: rig.metadata)
        let encoded = try RigWriter.encode(content, deltas: flags & KMT_RIG_SAVE_HALF != 0 ? .float16 : .float32)
        try AtomicFileSet.write(encoded.bytes, to: path)
    }
}
