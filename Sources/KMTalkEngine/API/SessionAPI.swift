import CKMTalk

/// The default session options, struct_size filled in.
nonisolated(unsafe) private let sessionDefaults = kmt_session_params(
    struct_size: MemoryLayout<kmt_session_params>.size, n_threads: 0, nonfinite_policy: KMT_NONFINITE_REJECT,
    output_fps: 0, latency_ms: 0, progress: nil, progress_user_data: nil)

/// The offsets of kmt_session_params' pointer fields (a struct_size may not split one).
private let sessionPointerFields = [
    MemoryLayout<kmt_session_params>.offset(of: \.progress)!,
    MemoryLayout<kmt_session_params>.offset(of: \.progress_user_data)!,
]

/// Implements `kmt_session_params_init` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_params_init(_ params: UnsafeMutablePointer<kmt_session_params>?, _ structSize: Int) -> kmt_status {
    apiCall {
        try initParams(
            params, structSize: structSize, defaults: sessionDefaults, name: "kmt_session_params",
            pointerFields: sessionPointerFields)
    }
}

/// Reads the caller's session params (older, smaller structs get the defaults of the
/// fields they lack: no progress callback).
private func readSessionParams(_ params: UnsafePointer<kmt_session_params>?) throws -> kmt_session_params {
    try readParams(params, defaults: sessionDefaults, name: "kmt_session_params", pointerFields: sessionPointerFields)
}

/// Validates session params into engine options.
private func sessionOptions(_ p: kmt_session_params) throws -> SessionOptions {
    guard p.n_threads >= 0, p.n_threads <= 1024 else {
        throw KMTError.invalidArgument("n_threads must be 0 (one thread) or 1..1024, got \(p.n_threads)")
    }
    guard p.output_fps == 0 || (p.output_fps.isFinite && SessionOptions.fpsRange.contains(p.output_fps)) else {
        throw KMTError.invalidArgument("output_fps must be 0 (native) or 1..240, got \(p.output_fps)")
    }
    let latency: Double?
    switch p.latency_ms {
    case 0: latency = nil
    case Double(KMT_LATENCY_EXACT): latency = .infinity
    case let ms where ms.isFinite && ms >= StreamingSession.minimumLatencyMs: latency = ms
    default:
        throw KMTError.invalidArgument(
            "latency_ms must be 0 (the model's default), KMT_LATENCY_EXACT (-1) or at least \(StreamingSession.minimumLatencyMs) ms, got \(p.latency_ms)")
    }
    guard p.nonfinite_policy == KMT_NONFINITE_REJECT || p.nonfinite_policy == KMT_NONFINITE_ZERO else {
        throw KMTError.invalidArgument("nonfinite_policy \(p.nonfinite_policy.rawValue) is not a kmt_nonfinite_policy value")
    }
    return SessionOptions(
        threads: Int(p.n_threads), outputFps: p.output_fps == 0 ? nil : p.output_fps,
        nonfinitePolicy: p.nonfinite_policy == KMT_NONFINITE_ZERO ? .zero : .reject, latencyMs: latency)
}

/// Implements `kmt_session_create` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_create(
    _ modelHandle: OpaquePointer?, _ params: UnsafePointer<kmt_session_params>?,
    _ outSession: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outSession?.pointee = nil
    return apiCall {
        let out = try requireOut(outSession, "out_session")
        guard let modelHandle else { throw KMTError.invalidArgument("model is NULL") }
        let fields = try readSessionParams(params)
        let options = try sessionOptions(fields)
        let model = Handle.borrow(modelHandle, as: KMTalkModel.self)
        let progress = progressCallback(fields.progress, fields.progress_user_data)
        out.pointee = Handle.retain(Session(model: model, options: options, progress: progress))
    }
}

/// Implements `kmt_session_free` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_session_free(_ session: OpaquePointer?) {
    Handle.release(session, as: Session.self)
}
