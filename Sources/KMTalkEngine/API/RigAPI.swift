import CKMTalk

/// The rig behind a handle, or nil for NULL.
private func rig(_ handle: OpaquePointer?) -> Rig? {
    handle.map { Handle.borrow($0, as: Rig.self) }
}

/// The rig behind a handle, or KMT_ERR_INVALID_ARGUMENT for NULL.
private func requireRig(_ handle: OpaquePointer?) throws -> Rig {
    guard let rig = rig(handle) else { throw KMTError.invalidArgument("rig is NULL") }
    return rig
}

/// The animation behind a handle, or KMT_ERR_INVALID_ARGUMENT for NULL.
private func requireAnimation(_ handle: OpaquePointer?) throws -> Animation {
    guard let handle else { throw KMTError.invalidArgument("animation is NULL") }
    return Handle.borrow(handle, as: Animation.self)
}

/// Implements `kmt_rig_load_file` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_load_file(_ path: UnsafePointer<CChar>?, _ outRig: UnsafeMutablePointer<OpaquePointer?>?) -> kmt_status {
    outRig?.pointee = nil
    return apiCall {
        let out = try requireOut(outRig, "out_rig")
        let path = try requireString(path, "path")
        let start = StageClock.now()
        let rig = try Rig(path: path)
        Log.info("loaded rig \(path): \(rig.vertexCount) vertices, \(rig.faceCount) faces, \(rig.shapeCount) shapes in \(Int((StageClock.now() - start) * 1000)) ms")
        out.pointee = Handle.retain(rig)
    }
}

/// Implements `kmt_rig_load_memory` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_load_memory(
    _ data: UnsafeRawPointer?, _ size: Int, _ outRig: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outRig?.pointee = nil
    return apiCall {
        let out = try requireOut(outRig, "out_rig")
        guard let data else { throw KMTError.invalidArgument("data is NULL") }
        // size_t arrives as Int: sizes above Int.max show up negative.
        guard size >= 0 else { throw KMTError.invalidArgument("size \(UInt(bitPattern: size)) is not a plausible buffer size") }
        let rig = try Rig(bytes: UnsafeRawBufferPointer(start: data, count: size))
        out.pointee = Handle.retain(rig)
    }
}

/// Implements `kmt_rig_free` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_free(_ handle: OpaquePointer?) {
    Handle.release(handle, as: Rig.self)
}

/// Implements `kmt_rig_vertex_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_vertex_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        try requireOut(outCount, "out_count").pointee = rig.vertexCount
    }
}

/// Implements `kmt_rig_face_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_face_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        try requireOut(outCount, "out_count").pointee = rig.faceCount
    }
}

/// Implements `kmt_rig_shape_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_shape_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        try requireOut(outCount, "out_count").pointee = rig.shapeCount
    }
}

/// Implements `kmt_rig_shape_name` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_shape_name(
    _ handle: OpaquePointer?, _ index: Int, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> kmt_status {
    outName?.pointee = nil
    return apiCall {
        let rig = try requireRig(handle)
        let out = try requireOut(outName, "out_name")
        out.pointee = try indexedCString(rig.names, at: index, item: "shape")
    }
}

/// Implements `kmt_rig_metadata` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_metadata(
    _ handle: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ buffer: UnsafeMutablePointer<CChar>?,
    _ bufferSize: Int, _ outLength: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outLength?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        let key = try requireString(key, "key")
        guard let value = rig.metadataValue(key) else {
            throw KMTError.invalidArgument("rig metadata has no key '\(key)'")
        }
        try copyToCallerBuffer(value, buffer, capacity: bufferSize, outLength: outLength, what: "metadata '\(key)'")
    }
}

/// Implements `kmt_rig_read_vertices` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_read_vertices(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<Float>?, _ bufferLength: Int,
    _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        try copyToCallerBuffer(rig.vertices, buffer, capacity: bufferLength, outCount: outWritten, unit: "floats")
    }
}

/// Implements `kmt_rig_read_faces` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_read_faces(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<Int32>?, _ bufferLength: Int,
    _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        try copyToCallerBuffer(rig.faces, buffer, capacity: bufferLength, outCount: outWritten, unit: "indices")
    }
}

/// Implements `kmt_rig_read_deltas` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_read_deltas(
    _ handle: OpaquePointer?, _ shape: Int, _ buffer: UnsafeMutablePointer<Float>?, _ bufferLength: Int,
    _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let rig = try requireRig(handle)
        // size_t arrives as Int: values above Int.max show up negative.
        guard shape >= 0, shape < rig.shapeCount else {
            throw KMTError.invalidArgument("shape \(UInt(bitPattern: shape)) is out of range: the rig has \(rig.shapeCount) shape\(rig.shapeCount == 1 ? "" : "s")")
        }
        let size = rig.vertexCount * 3
        try copyToCallerBuffer(Array(rig.deltas.data[(shape * size)..<((shape + 1) * size)]), buffer, capacity: bufferLength, outCount: outWritten, unit: "floats")
    }
}

/// Implements `kmt_animation_vertices` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_vertices(
    _ animationHandle: OpaquePointer?, _ rigHandle: OpaquePointer?, _ firstFrame: Int, _ frameCount: Int,
    _ mode: kmt_vertex_mode, _ buffer: UnsafeMutablePointer<Float>?, _ bufferLength: Int,
    _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let animation = try requireAnimation(animationHandle)
        let mesh = try AnimationMesh(animation: animation, rig: rig(rigHandle))
        let vertexMode: VertexMode
        switch mode {
        case KMT_VERTICES_ABSOLUTE: vertexMode = .absolute
        case KMT_VERTICES_OFFSETS: vertexMode = .offsets
        default: throw KMTError.invalidArgument("mode \(mode.rawValue) is neither KMT_VERTICES_ABSOLUTE nor KMT_VERTICES_OFFSETS")
        }
        // size_t arrives as Int: values above Int.max show up negative.
        let (end, overflow) = firstFrame.addingReportingOverflow(frameCount)
        guard firstFrame >= 0, frameCount >= 0, !overflow, end <= animation.frameCount else {
            throw KMTError.invalidArgument("frames [\(UInt(bitPattern: firstFrame)), +\(UInt(bitPattern: frameCount))) lie outside the animation's \(animation.frameCount) frames")
        }
        let (needed, tooLarge) = frameCount.multipliedReportingOverflow(by: mesh.floatsPerFrame)
        guard !tooLarge else {
            throw KMTError(KMT_ERR_OUT_OF_MEMORY, "\(frameCount) frames of \(mesh.vertexCount) vertices overflow a size")
        }
        outWritten?.pointee = needed
        guard bufferLength < 0 || bufferLength >= needed else {
            throw KMTError(KMT_ERR_BUFFER_TOO_SMALL, "buffer holds \(bufferLength) floats, \(needed) needed (\(frameCount) frames x \(mesh.vertexCount) vertices x 3)")
        }
        guard needed > 0 else { return }
        guard let buffer else { throw KMTError.invalidArgument("buffer is NULL") }
        try mesh.vertices(
            of: animation, frames: firstFrame..<end, mode: vertexMode,
            into: UnsafeMutableBufferPointer(start: buffer, count: needed))
    }
}

/// Implements `kmt_rig_unmatched_channels` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_unmatched_channels(
    _ rigHandle: OpaquePointer?, _ animationHandle: OpaquePointer?, _ buffer: UnsafeMutablePointer<Int>?,
    _ bufferLength: Int, _ outCount: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let rig = try requireRig(rigHandle)
        let animation = try requireAnimation(animationHandle)
        let mapping = rig.matcher.match(animation.channelNames)
        try copyToCallerBuffer(mapping.unmatchedSources, buffer, capacity: bufferLength, outCount: outCount, unit: "indices")
    }
}

/// Implements `kmt_rig_unmatched_shapes` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_unmatched_shapes(
    _ rigHandle: OpaquePointer?, _ animationHandle: OpaquePointer?, _ buffer: UnsafeMutablePointer<Int>?,
    _ bufferLength: Int, _ outCount: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let rig = try requireRig(rigHandle)
        let animation = try requireAnimation(animationHandle)
        let mapping = rig.matcher.match(animation.channelNames)
        try copyToCallerBuffer(mapping.unmatchedShapes, buffer, capacity: bufferLength, outCount: outCount, unit: "indices")
    }
}

/// Implements `kmt_rig_shape_channels` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_shape_channels(
    _ rigHandle: OpaquePointer?, _ animationHandle: OpaquePointer?, _ buffer: UnsafeMutablePointer<Int32>?,
    _ bufferLength: Int, _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let rig = try requireRig(rigHandle)
        let animation = try requireAnimation(animationHandle)
        guard animation.channelCount <= Int(Int32.max) else {
            throw KMTError.invalidArgument("the animation's \(animation.channelCount) channels exceed int32_t indices")
        }
        let channels = rig.matcher.match(animation.channelNames).drivers.map { Int32($0?.source ?? -1) }
        try copyToCallerBuffer(channels, buffer, capacity: bufferLength, outCount: outWritten, unit: "indices")
    }
}

/// Implements `kmt_rig_match_names` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_rig_match_names(
    _ rigHandle: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?, _ nameCount: Int,
    _ buffer: UnsafeMutablePointer<Int32>?, _ bufferLength: Int, _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let rig = try requireRig(rigHandle)
        // size_t arrives as Int: a negative count is above Int.max.
        guard nameCount >= 0, nameCount <= Int(Int32.max) else {
            throw KMTError.invalidArgument("name_count \(UInt(bitPattern: nameCount)) exceeds int32_t indices")
        }
        guard names != nil || nameCount == 0 else { throw KMTError.invalidArgument("names is NULL but name_count is \(nameCount)") }
        var list: [String] = []
        list.reserveCapacity(nameCount)
        for index in 0..<nameCount {
            guard let name = names![index] else { throw KMTError.invalidArgument("names[\(index)] is NULL") }
            guard let text = String(validatingCString: name) else {
                throw KMTError.invalidArgument("names[\(index)] is not valid UTF-8")
            }
            list.append(text)
        }
        let drivers = rig.matcher.match(list).drivers.map { Int32($0?.source ?? -1) }
        try copyToCallerBuffer(drivers, buffer, capacity: bufferLength, outCount: outWritten, unit: "indices")
    }
}
