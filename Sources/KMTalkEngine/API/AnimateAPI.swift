import CKMTalk

/// Implements `kmt_animate_file` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animate_file(
    _ sessionHandle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
    _ outAnimation: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outAnimation?.pointee = nil
    return apiCall {
        let out = try requireOut(outAnimation, "out_animation")
        guard let sessionHandle else { throw KMTError.invalidArgument("session is NULL") }
        let path = try requireString(path, "path")
        let session = Handle.borrow(sessionHandle, as: Session.self)
        out.pointee = Handle.retain(try session.animate(path: path))
    }
}

/// Implements `kmt_animate_pcm` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animate_pcm(
    _ sessionHandle: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ frameCount: Int,
    _ sampleRate: Int32, _ channels: Int32, _ outAnimation: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outAnimation?.pointee = nil
    return apiCall {
        let out = try requireOut(outAnimation, "out_animation")
        guard let sessionHandle else { throw KMTError.invalidArgument("session is NULL") }
        guard channels >= 1 else { throw KMTError.invalidArgument("channels must be >= 1, got \(channels)") }
        guard frameCount != 0 else { throw KMTError.invalidAudio("PCM input: frame_count is 0") }
        // size_t arrives as Int: counts above Int.max show up negative.
        guard frameCount > 0 else {
            throw KMTError(KMT_ERR_OUT_OF_MEMORY, "PCM input: frame_count \(UInt(bitPattern: frameCount)) is too large")
        }
        guard let samples else { throw KMTError.invalidArgument("samples is NULL") }
        let (total, overflow) = frameCount.multipliedReportingOverflow(by: Int(channels))
        guard !overflow, total <= Int.max / 4 else {
            throw KMTError(KMT_ERR_OUT_OF_MEMORY, "PCM input: \(frameCount) frames x \(channels) channels is too large")
        }
        let session = Handle.borrow(sessionHandle, as: Session.self)
        out.pointee = Handle.retain(
            try session.animate(pcm: samples, frameCount: frameCount, sampleRate: Int(sampleRate), channels: Int(channels)))
    }
}
