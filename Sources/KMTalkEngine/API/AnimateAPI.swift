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
        try PCMArguments.check(samples, frames: frameCount, sampleRate: sampleRate, channels: channels, bufferName: "samples", source: "PCM input")
        guard frameCount != 0, let samples else { throw KMTError.invalidAudio("PCM input: frame_count is 0") }
        let session = Handle.borrow(sessionHandle, as: Session.self)
        out.pointee = Handle.retain(
            try session.animate(pcm: samples, frameCount: frameCount, sampleRate: Int(sampleRate), channels: Int(channels)))
    }
}
