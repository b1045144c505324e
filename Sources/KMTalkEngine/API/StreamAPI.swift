import CKMTalk

/// The streaming state of a session handle (created on first use).
private func streamingSession(_ handle: OpaquePointer?) throws -> StreamingSession {
    guard let handle else { throw KMTError.invalidArgument("session is NULL") }
    return try Handle.borrow(handle, as: Session.self).stream()
}

/// The push functions' common body: validates, then hands `pcm` to `pushSamples`, or for
/// 0 frames without a buffer pushes nothing (which still fixes the utterance's rate and
/// channel count).
private func push<Sample>(
    _ session: OpaquePointer?, _ pcm: UnsafePointer<Sample>?, _ frames: Int, _ sampleRate: Int32, _ channels: Int32,
    _ pushSamples: (StreamingSession, UnsafePointer<Sample>) throws -> Void
) -> kmt_status {
    apiCall {
        let stream = try streamingSession(session)
        try PCMArguments.check(pcm, frames: frames, sampleRate: sampleRate, channels: channels, bufferName: "pcm", source: "PCM stream")
        if let pcm {
            try pushSamples(stream, pcm)
        } else {
            var empty: Float = 0
            try stream.push(&empty, frameCount: 0, sampleRate: Int(sampleRate), channels: Int(channels))
        }
    }
}

/// Implements `kmt_session_push_f32` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_push_f32(
    _ session: OpaquePointer?, _ pcm: UnsafePointer<Float>?, _ frames: Int, _ sampleRate: Int32, _ channels: Int32
) -> kmt_status {
    push(session, pcm, frames, sampleRate, channels) {
        try $0.push($1, frameCount: frames, sampleRate: Int(sampleRate), channels: Int(channels))
    }
}

/// Implements `kmt_session_push_s16` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_push_s16(
    _ session: OpaquePointer?, _ pcm: UnsafePointer<Int16>?, _ frames: Int, _ sampleRate: Int32, _ channels: Int32
) -> kmt_status {
    push(session, pcm, frames, sampleRate, channels) {
        try $0.push($1, frameCount: frames, sampleRate: Int(sampleRate), channels: Int(channels))
    }
}

/// Implements `kmt_session_pull` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_pull(
    _ session: OpaquePointer?, _ buffer: UnsafeMutablePointer<Float>?, _ bufferLength: Int,
    _ outFrames: UnsafeMutablePointer<Int>?, _ outFirstTime: UnsafeMutablePointer<Double>?
) -> kmt_status {
    outFrames?.pointee = 0
    outFirstTime?.pointee = 0
    return apiCall {
        let stream = try streamingSession(session)
        let frames = try requireOut(outFrames, "out_frames")
        // A size_t above Int.max arrives negative: more room than any stream needs.
        let capacity = bufferLength < 0 ? Int.max : bufferLength
        let fit = capacity / stream.channelCount
        guard buffer != nil || fit == 0 else { throw KMTError.invalidArgument("buffer is NULL but buffer_length is \(UInt(bitPattern: bufferLength))") }
        if let buffer, fit > 0 {
            let (count, time) = stream.pull(into: buffer, maximumFrames: fit)
            frames.pointee = count
            outFirstTime?.pointee = time
        } else if stream.pendingFrames > 0 {
            // A buffer that holds no frame would return OK with 0 frames forever while
            // frames wait: a "pull while pending" loop would never end.
            throw KMTError(
                KMT_ERR_BUFFER_TOO_SMALL,
                "buffer_length \(UInt(bitPattern: bufferLength)) holds no frame: one frame is \(stream.channelCount) floats (\(stream.pendingFrames) pending)")
        }
    }
}

/// Implements `kmt_session_flush` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_flush(_ session: OpaquePointer?) -> kmt_status {
    apiCall { try streamingSession(session).flush() }
}

/// Implements `kmt_session_reset` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_reset(_ session: OpaquePointer?) -> kmt_status {
    apiCall { try streamingSession(session).reset() }
}

/// Implements `kmt_session_pending_frames` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_pending_frames(_ session: OpaquePointer?, _ outFrames: UnsafeMutablePointer<Int>?) -> kmt_status {
    outFrames?.pointee = 0
    return apiCall {
        let stream = try streamingSession(session)
        try requireOut(outFrames, "out_frames").pointee = stream.pendingFrames
    }
}

/// The session's streaming state, or a throwaway one (it holds no audio) before the
/// first streaming call; KMT_ERR_INVALID_ARGUMENT for NULL, KMT_ERR_INCOMPATIBLE_MODEL for
/// a model that cannot stream.
private func streamingState(_ session: OpaquePointer?) throws -> StreamingSession {
    guard let session else { throw KMTError.invalidArgument("session is NULL") }
    let owner = Handle.borrow(session, as: Session.self)
    return try owner.streaming ?? StreamingSession(model: owner.model, options: owner.options)
}

/// Implements `kmt_session_latency_ms` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_latency_ms(_ session: OpaquePointer?, _ outMs: UnsafeMutablePointer<Double>?) -> kmt_status {
    outMs?.pointee = 0
    return apiCall {
        guard session != nil else { throw KMTError.invalidArgument("session is NULL") }
        let out = try requireOut(outMs, "out_ms")
        out.pointee = try streamingState(session).latencyMs
    }
}

/// Implements `kmt_session_exact_latency_ms` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_exact_latency_ms(_ session: OpaquePointer?, _ outMs: UnsafeMutablePointer<Double>?) -> kmt_status {
    outMs?.pointee = 0
    return apiCall {
        guard session != nil else { throw KMTError.invalidArgument("session is NULL") }
        let out = try requireOut(outMs, "out_ms")
        out.pointee = try streamingState(session).fullLatencyMs
    }
}

/// Implements `kmt_session_output_fps` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_output_fps(_ session: OpaquePointer?, _ outFps: UnsafeMutablePointer<Double>?) -> kmt_status {
    outFps?.pointee = 0
    return apiCall {
        guard let session else { throw KMTError.invalidArgument("session is NULL") }
        let owner = Handle.borrow(session, as: Session.self)
        try requireOut(outFps, "out_fps").pointee = owner.options.resolvedFps(for: owner.model)
    }
}

/// Implements `kmt_session_set_latency_ms` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_set_latency_ms(_ session: OpaquePointer?, _ latencyMs: Double) -> kmt_status {
    apiCall { try streamingSession(session).setLatency(ms: latencyMs) }
}

/// Implements `kmt_session_stage_times` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_stage_times(
    _ session: OpaquePointer?, _ buffer: UnsafeMutablePointer<kmt_stage_time>?, _ bufferLength: Int,
    _ outCount: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        guard let session else { throw KMTError.invalidArgument("session is NULL") }
        let timings = Handle.borrow(session, as: Session.self).lastTimings.map {
            kmt_stage_time(stage: InternedCStrings.pointer(for: $0.stage), seconds: $0.seconds)
        }
        try copyToCallerBuffer(timings, buffer, capacity: bufferLength, outCount: outCount, unit: "stages")
    }
}
