import CKMTalk

/// The animation behind a handle, or nil for NULL.
private func animation(_ handle: OpaquePointer?) -> Animation? {
    handle.map { Handle.borrow($0, as: Animation.self) }
}

/// Implements `kmt_animation_free` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_free(_ handle: OpaquePointer?) {
    Handle.release(handle, as: Animation.self)
}

/// The animation behind a handle, or KMT_ERR_INVALID_ARGUMENT for NULL.
private func requireAnimation(_ handle: OpaquePointer?) throws -> Animation {
    guard let animation = animation(handle) else { throw KMTError.invalidArgument("animation is NULL") }
    return animation
}

/// Implements `kmt_animation_frame_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_frame_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let animation = try requireAnimation(handle)
        try requireOut(outCount, "out_count").pointee = animation.frameCount
    }
}

/// Implements `kmt_animation_channel_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_channel_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let animation = try requireAnimation(handle)
        try requireOut(outCount, "out_count").pointee = animation.channelCount
    }
}

/// Implements `kmt_animation_fps` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_fps(_ handle: OpaquePointer?, _ outFps: UnsafeMutablePointer<Double>?) -> kmt_status {
    outFps?.pointee = 0
    return apiCall {
        let animation = try requireAnimation(handle)
        try requireOut(outFps, "out_fps").pointee = animation.fps
    }
}

/// Implements `kmt_animation_channel_name` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_channel_name(
    _ handle: OpaquePointer?, _ index: Int, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> kmt_status {
    outName?.pointee = nil
    return apiCall {
        let animation = try requireAnimation(handle)
        let out = try requireOut(outName, "out_name")
        out.pointee = try indexedCString(animation.names, at: index, item: "channel")
    }
}

/// Implements `kmt_animation_read_frames` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_read_frames(
    _ handle: OpaquePointer?, _ firstFrame: Int, _ frameCount: Int, _ buffer: UnsafeMutablePointer<Float>?,
    _ bufferLength: Int, _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        let animation = try requireAnimation(handle)
        // size_t arrives as Int: values above Int.max show up negative.
        let (end, overflow) = firstFrame.addingReportingOverflow(frameCount)
        guard firstFrame >= 0, frameCount >= 0, !overflow, end <= animation.frameCount else {
            throw KMTError.invalidArgument("frames [\(UInt(bitPattern: firstFrame)), +\(UInt(bitPattern: frameCount))) lie outside the animation's \(animation.frameCount) frames")
        }
        let needed = frameCount * animation.channelCount
        outWritten?.pointee = needed
        // A buffer_length above Int.max (negative here) is more room than any animation needs.
        guard bufferLength < 0 || bufferLength >= needed else {
            throw KMTError(KMT_ERR_BUFFER_TOO_SMALL, "buffer holds \(bufferLength) floats, \(needed) needed")
        }
        guard needed > 0 else { return }
        guard let buffer else { throw KMTError.invalidArgument("buffer is NULL") }
        animation.values.data.withUnsafeBufferPointer { values in
            buffer.update(from: values.baseAddress! + firstFrame * animation.channelCount, count: needed)
        }
    }
}

/// Implements `kmt_animation_remap` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_remap(
    _ handle: OpaquePointer?, _ channelMapJSON: UnsafePointer<CChar>?, _ outAnimation: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outAnimation?.pointee = nil
    return apiCall {
        let out = try requireOut(outAnimation, "out_animation")
        let source = try requireAnimation(handle)
        guard let channelMapJSON else { throw KMTError.invalidArgument("channel_map_json is NULL") }
        guard let text = String(validatingCString: channelMapJSON) else {
            throw KMTError.invalidArgument("channel_map_json is not valid UTF-8")
        }
        out.pointee = Handle.retain(try ChannelMap(json: text).apply(to: source))
    }
}
