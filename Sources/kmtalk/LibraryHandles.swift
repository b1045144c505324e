import CKMTalk

/// The C API's last error as a Swift error.
func libraryError(_ status: kmt_status) -> CLIError {
    CLIError("\(String(cString: kmt_status_string(status))): \(String(cString: kmt_last_error()))")
}

/// Owns a `kmt_model` handle.
final class ModelHandle {
    let pointer: OpaquePointer

    init(path: String) throws {
        var model: OpaquePointer?
        let status = kmt_model_load_file(path, nil, &model)
        guard status == KMT_OK, let model else { throw libraryError(status) }
        pointer = model
    }

    deinit { kmt_model_free(pointer) }
}

/// Owns a `kmt_session` handle.
final class SessionHandle {
    let pointer: OpaquePointer

    init(model: ModelHandle, threads: Int, fps: Double?) throws {
        var params = kmt_session_default_params()
        params.n_threads = Int32(threads)
        params.output_fps = Float(fps ?? 0)
        var session: OpaquePointer?
        let status = kmt_session_create(model.pointer, &params, &session)
        guard status == KMT_OK, let session else { throw libraryError(status) }
        pointer = session
    }

    deinit { kmt_session_free(pointer) }

    /// Animates a file and copies the result out of the library.
    func animate(path: String) throws -> AnimationResult {
        var animation: OpaquePointer?
        let status = kmt_animate_file(pointer, path, &animation)
        guard status == KMT_OK, let animation else { throw libraryError(status) }
        defer { kmt_animation_free(animation) }
        return try AnimationResult(animation)
    }
}

/// An animation copied into Swift values.
struct AnimationResult {
    var fps: Double
    var channels: [String]
    /// Row-major [frames, channels].
    var values: [Float]
    var frameCount: Int { channels.isEmpty ? 0 : values.count / channels.count }

    init(_ animation: OpaquePointer) throws {
        fps = Double(kmt_animation_fps(animation))
        let channelCount = kmt_animation_channel_count(animation)
        channels = (0..<channelCount).map { String(cString: kmt_animation_channel_name(animation, $0)) }
        let frames = kmt_animation_frame_count(animation)
        values = [Float](repeating: 0, count: frames * channelCount)
        let status = kmt_animation_read_frames(animation, 0, frames, &values, values.count, nil)
        guard status == KMT_OK else { throw libraryError(status) }
    }
}
