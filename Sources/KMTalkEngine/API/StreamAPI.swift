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

/// The batched push functions' common body: checks every argument before any session is
/// touched, then pushes the blocks through `StreamingSession.push(_:sampleRate:channels:)`
/// (float blocks from `floats`), and reports each session's status.
private func pushMany<Sample>(
    _ sessions: UnsafePointer<OpaquePointer?>?, _ count: Int, _ pcm: UnsafePointer<UnsafePointer<Sample>?>?,
    _ frames: UnsafePointer<Int>?, _ sampleRate: Int32, _ channels: Int32, _ outStatuses: UnsafeMutablePointer<kmt_status>?,
    floats: (UnsafePointer<Sample>, Int) -> [Float]?
) -> kmt_status {
    var statuses: [kmt_status] = []
    let status = apiCall {
        // A size_t above Int.max arrives negative.
        guard count >= 0, count <= 1 << 20 else { throw KMTError.invalidArgument("count \(UInt(bitPattern: count)) is above 1048576 sessions") }
        guard count > 0 else { return }
        guard let sessions else { throw KMTError.invalidArgument("sessions is NULL") }
        guard let pcm else { throw KMTError.invalidArgument("pcm is NULL") }
        guard let frames else { throw KMTError.invalidArgument("frames is NULL") }
        var seen = Set<OpaquePointer>()
        for i in 0..<count {
            guard let handle = sessions[i] else { throw KMTError.invalidArgument("sessions[\(i)] is NULL") }
            guard seen.insert(handle).inserted else { throw KMTError.invalidArgument("sessions[\(i)] is listed twice") }
            try PCMArguments.check(pcm[i], frames: frames[i], sampleRate: sampleRate, channels: channels, bufferName: "pcm[\(i)]", source: "PCM stream")
        }
        // A session whose model cannot stream fails alone; the others are pushed.
        var streams: [StreamingSession] = []
        var members: [Int] = []
        var errors = [(any Error)?](repeating: nil, count: count)
        for i in 0..<count {
            do {
                streams.append(try streamingSession(sessions[i]))
                members.append(i)
            } catch {
                errors[i] = error
            }
        }
        // Blocks of 16-bit samples become float here (nil: already float, used in place).
        let converted = members.map { i in pcm[i].flatMap { floats($0, frames[i] * Int(channels)) } }
        var empty: Float = 0
        let pushed = withUnsafePointer(to: &empty) { none in
            withArrayOfFloatPointers(converted) { convertedPointers in
                let blocks = members.enumerated().map { slot, i in
                    StreamingSession.Block(
                        session: streams[slot],
                        pcm: convertedPointers[slot] ?? pcm[i].map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) } ?? none,
                        frameCount: frames[i])
                }
                return StreamingSession.push(blocks, sampleRate: Int(sampleRate), channels: Int(channels))
            }
        }
        for (slot, i) in members.enumerated() { errors[i] = pushed[slot] }
        var firstFailure: (index: Int, error: any Error)?
        statuses = errors.enumerated().map { i, error in
            guard let error else { return KMT_OK }
            if firstFailure == nil { firstFailure = (i, error) }
            return (error as? KMTError)?.status ?? KMT_ERR_INTERNAL
        }
        if let (index, error) = firstFailure {
            let message = (error as? KMTError)?.message ?? "internal error: \(error)"
            throw KMTError(statuses[index], "sessions[\(index)]: \(message)")
        }
    }
    if let outStatuses, count > 0, count <= 1 << 20 {
        for i in 0..<count { outStatuses[i] = statuses.count == count ? statuses[i] : status }
    }
    return status
}

/// Calls `body` with a pointer to the float data of each array (nil for nil), all valid
/// for the call.
private func withArrayOfFloatPointers<R>(_ arrays: [[Float]?], _ body: ([UnsafePointer<Float>?]) -> R) -> R {
    var pointers: [UnsafePointer<Float>?] = []
    func next(_ index: Int) -> R {
        guard index < arrays.count else { return body(pointers) }
        guard let array = arrays[index] else {
            pointers.append(nil)
            return next(index + 1)
        }
        return array.withUnsafeBufferPointer {
            pointers.append($0.baseAddress)
            return next(index + 1)
        }
    }
    return next(0)
}

/// Implements `kmt_sessions_push_f32` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_sessions_push_f32(
    _ sessions: UnsafePointer<OpaquePointer?>?, _ count: Int, _ pcm: UnsafePointer<UnsafePointer<Float>?>?,
    _ frames: UnsafePointer<Int>?, _ sampleRate: Int32, _ channels: Int32, _ outStatuses: UnsafeMutablePointer<kmt_status>?
) -> kmt_status {
    pushMany(sessions, count, pcm, frames, sampleRate, channels, outStatuses) { _, _ in nil }
}

/// Implements `kmt_sessions_push_s16` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_sessions_push_s16(
    _ sessions: UnsafePointer<OpaquePointer?>?, _ count: Int, _ pcm: UnsafePointer<UnsafePointer<Int16>?>?,
    _ frames: UnsafePointer<Int>?, _ sampleRate: Int32, _ channels: Int32, _ outStatuses: UnsafeMutablePointer<kmt_status>?
) -> kmt_status {
    pushMany(sessions, count, pcm, frames, sampleRate, channels, outStatuses) { samples, n in
        (0..<n).map { Float(samples[$0]) / 32_768 }
    }
}
