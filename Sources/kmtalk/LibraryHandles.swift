import CKMTalk
import Foundation

/// The C API's last error as a Swift error.
func libraryError(_ status: kmt_status) -> CLIError {
    CLIError("\(String(cString: kmt_status_string(status))): \(String(cString: kmt_last_error()))", status: status)
}

/// A parameter struct set up by its `kmt_*_params_init` function: the library's defaults,
/// struct_size this build's sizeof (never a by-value `kmt_*_default_params()`, whose
/// result a newer library could write past the struct; include/kmtalk.h).
func defaultParams<T>(_ initialize: (UnsafeMutablePointer<T>?, Int) -> kmt_status) throws -> T {
    let params = UnsafeMutablePointer<T>.allocate(capacity: 1)
    defer { params.deallocate() }
    let status = initialize(params, MemoryLayout<T>.size)
    guard status == KMT_OK else { throw libraryError(status) }
    return params.move()
}

/// One value read through a C API getter (`kmt_status f(object, ..., T *out)`, every
/// property of a library object), or the library's error.
func libraryValue<T>(_ initial: T, _ getter: (UnsafeMutablePointer<T>) -> kmt_status) throws -> T {
    var value = initial
    let status = getter(&value)
    guard status == KMT_OK else { throw libraryError(status) }
    return value
}

/// A string read through a C API getter (`kmt_status f(object, ..., const char **out)`).
func libraryString(_ getter: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> kmt_status) throws -> String {
    guard let pointer = try libraryValue(nil, getter) else { throw CLIError("the library returned a NULL string") }
    return String(cString: pointer)
}

/// Owns a `kmt_model` handle.
final class ModelHandle {
    let pointer: OpaquePointer
    /// The model's output channel names, in order.
    let channelNames: [String]
    /// The model's architecture name ("kmtalk", "kmtalk-direct").
    let architecture: String
    /// The rate the model's front-end runs at, Hz.
    let sampleRate: Int32
    /// The model's native output frame rate.
    let fps: Double
    /// The number of weights.
    let parameterCount: UInt64
    /// The model's motion space ("arkit", "rig" or "vertices").
    let motionSpace: String

    init(path: String) throws {
        var model: OpaquePointer?
        let status = kmt_model_load_file(path, nil, &model)
        guard status == KMT_OK, let model else { throw libraryError(status) }
        do {
            let count = try libraryValue(0) { kmt_model_channel_count(model, $0) }
            channelNames = try (0..<count).map { index in try libraryString { kmt_model_channel_name(model, index, $0) } }
            architecture = try libraryString { kmt_model_architecture(model, $0) }
            sampleRate = try libraryValue(0) { kmt_model_sample_rate(model, $0) }
            fps = try libraryValue(0) { kmt_model_fps(model, $0) }
            parameterCount = try libraryValue(0) { kmt_model_parameter_count(model, $0) }
            motionSpace = try libraryString { kmt_model_motion_space(model, $0) }
        } catch {
            kmt_model_free(model)
            throw error
        }
        pointer = model
    }

    deinit { kmt_model_free(pointer) }

    /// The metadata value stored under `key`, or nil when the file has none.
    func metadata(_ key: String) -> String? {
        var length = 0
        let probe = kmt_model_metadata(pointer, key, nil, 0, &length)
        guard probe == KMT_OK || probe == KMT_ERR_BUFFER_TOO_SMALL else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard kmt_model_metadata(pointer, key, &buffer, buffer.count, &length) == KMT_OK else { return nil }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A fresh session's exact (full look-ahead) and default latency, ms; nil for a model
    /// that cannot stream (full attention: the library reports KMT_ERR_INCOMPATIBLE_MODEL).
    func streamingLatencies() throws -> (exact: Double, default: Double)? {
        var params: kmt_session_params = try defaultParams(kmt_session_params_init)
        params.n_threads = 1
        var session: OpaquePointer?
        let status = kmt_session_create(pointer, &params, &session)
        guard status == KMT_OK, let session else { throw libraryError(status) }
        defer { kmt_session_free(session) }
        var exact = 0.0, latency = 0.0
        let exactStatus = kmt_session_exact_latency_ms(session, &exact)
        guard exactStatus != KMT_ERR_INCOMPATIBLE_MODEL else { return nil }
        guard exactStatus == KMT_OK else { throw libraryError(exactStatus) }
        let latencyStatus = kmt_session_latency_ms(session, &latency)
        guard latencyStatus == KMT_OK else { throw libraryError(latencyStatus) }
        return (exact, latency)
    }
}

/// Owns a `kmt_session` handle.
final class SessionHandle {
    let pointer: OpaquePointer
    /// The bar the session's progress callback draws on; kept alive as long as the
    /// session, which keeps the pointer (kmt_session_params.progress_user_data).
    let progress: ProgressBar?

    /// A session whose offline calls report to `progress` (when given) and stop on
    /// Ctrl-C (always: the callback is installed either way).
    init(model: ModelHandle, threads: Int, fps: Double?, progress: ProgressBar? = nil) throws {
        var params: kmt_session_params = try defaultParams(kmt_session_params_init)
        params.n_threads = Int32(threads)
        params.output_fps = fps ?? 0
        params.progress = ProgressBar.callback
        params.progress_user_data = progress?.userData
        self.progress = progress
        var session: OpaquePointer?
        let status = kmt_session_create(model.pointer, &params, &session)
        guard status == KMT_OK, let session else { throw libraryError(status) }
        pointer = session
    }

    deinit { kmt_session_free(pointer) }

    /// Animates a file and copies the result out of the library.
    func animate(path: String) throws -> AnimationResult {
        // Keep the handle alive while copying: a temporary may be released before its
        // pointer is used.
        let handle = try animateHandle(path: path)
        return try withExtendedLifetime(handle) { try AnimationResult(handle.pointer) }
    }

    /// Animates mono float samples at `sampleRate` Hz (`kmt_animate_pcm`).
    func animate(pcm samples: [Float], sampleRate: Int32) throws -> AnimationHandle {
        var animation: OpaquePointer?
        let status = kmt_animate_pcm(pointer, samples, samples.count, sampleRate, 1, &animation)
        guard status == KMT_OK, let animation else { throw libraryError(status) }
        return try AnimationHandle(animation)
    }

    /// Where the last offline call's time went, step by step (`kmt_session_stage_times`).
    func stageTimes() throws -> [(stage: String, seconds: Double)] {
        var count = 0
        var status = kmt_session_stage_times(pointer, nil, 0, &count)
        guard status == KMT_OK || status == KMT_ERR_BUFFER_TOO_SMALL else { throw libraryError(status) }
        var stages = [kmt_stage_time](repeating: kmt_stage_time(), count: count)
        status = kmt_session_stage_times(pointer, &stages, stages.count, &count)
        guard status == KMT_OK else { throw libraryError(status) }
        return stages.map { (String(cString: $0.stage), $0.seconds) }
    }

    /// Animates a file, keeping the library's animation (for kmt_animation_save).
    func animateHandle(path: String) throws -> AnimationHandle {
        var animation: OpaquePointer?
        let status = kmt_animate_file(pointer, path, &animation)
        guard status == KMT_OK, let animation else { throw libraryError(status) }
        return try AnimationHandle(animation)
    }
}

/// Owns a `kmt_animation` handle.
final class AnimationHandle {
    let pointer: OpaquePointer
    let frameCount: Int
    let channelCount: Int
    let fps: Double
    /// V of the template a vertices-space animation carries; 0 for weights.
    let vertexCount: Int

    /// Takes ownership of `pointer` (freed here when its properties cannot be read).
    init(_ pointer: OpaquePointer) throws {
        do {
            frameCount = try libraryValue(0) { kmt_animation_frame_count(pointer, $0) }
            channelCount = try libraryValue(0) { kmt_animation_channel_count(pointer, $0) }
            fps = try libraryValue(0) { kmt_animation_fps(pointer, $0) }
            vertexCount = try libraryValue(0) { kmt_animation_vertex_count(pointer, $0) }
        } catch {
            kmt_animation_free(pointer)
            throw error
        }
        self.pointer = pointer
    }

    deinit { kmt_animation_free(pointer) }

    /// A new animation of a character's own shapes (`kmt_animation_remap`).
    func remapped(channelMap json: String) throws -> AnimationHandle {
        var result: OpaquePointer?
        let status = kmt_animation_remap(pointer, json, &result)
        guard status == KMT_OK, let result else { throw libraryError(status) }
        return try AnimationHandle(result)
    }

    /// Writes the animation to `path` with the library's exporter (atomically), with the
    /// mouth cues limited to `extendedShapes` (nil: all of G, H, X), reporting to
    /// `progress` and stopping on Ctrl-C.
    func save(
        to path: String, rig: RigHandle?, format: kmt_export_format, extendedShapes: String? = nil,
        progress: ProgressBar? = nil
    ) throws {
        let status = try withExportParams(extendedShapes: extendedShapes, progress: progress) { params in
            kmt_animation_save_with_params(pointer, rig?.pointer, path, format, params)
        }
        guard status == KMT_OK else { throw libraryError(status) }
    }

    /// Writes a copy of the GLB at `asset` to `path` with the animation added
    /// (`kmt_animation_save_into_glb`).
    func save(into asset: String, to path: String) throws {
        let status = kmt_animation_save_into_glb(pointer, asset, path)
        guard status == KMT_OK else { throw libraryError(status) }
    }

    /// The bytes the library's exporter writes for a single-file format (options as for
    /// `save`).
    func encoded(
        rig: RigHandle?, format: kmt_export_format, extendedShapes: String? = nil, progress: ProgressBar? = nil
    ) throws -> [UInt8] {
        try withExportParams(extendedShapes: extendedShapes, progress: progress) { params in
            var size = 0
            var status = kmt_animation_save_to_memory_with_params(pointer, rig?.pointer, format, params, nil, 0, &size)
            guard status == KMT_OK || status == KMT_ERR_BUFFER_TOO_SMALL else { throw libraryError(status) }
            var bytes = [UInt8](repeating: 0, count: size)
            status = kmt_animation_save_to_memory_with_params(pointer, rig?.pointer, format, params, &bytes, bytes.count, &size)
            guard status == KMT_OK else { throw libraryError(status) }
            return bytes
        }
    }

    /// Calls `body` with export params carrying the options, valid during the call.
    private func withExportParams<R>(
        extendedShapes: String?, progress: ProgressBar?, _ body: (UnsafePointer<kmt_export_params>) throws -> R
    ) throws -> R {
        var params: kmt_export_params = try defaultParams(kmt_export_params_init)
        params.progress = ProgressBar.callback
        params.progress_user_data = progress?.userData
        return try withExtendedLifetime(progress) {
            try withOptionalCString(extendedShapes) { shapes in
                params.mouth_cue_extended_shapes = shapes
                return try withUnsafePointer(to: &params) { try body($0) }
            }
        }
    }
}

/// Owns a `kmt_rig` handle.
final class RigHandle {
    let pointer: OpaquePointer
    let vertexCount: Int
    let faceCount: Int
    let shapeCount: Int
    /// The rig's blendshape names, in order.
    let shapeNames: [String]

    convenience init(path: String) throws {
        var rig: OpaquePointer?
        let status = kmt_rig_load_file(path, &rig)
        guard status == KMT_OK, let rig else { throw libraryError(status) }
        try self.init(owning: rig)
    }

    /// A rig from the bytes of a kmtalk-rig file (`kmt_rig_load_memory`).
    convenience init(bytes: [UInt8]) throws {
        var rig: OpaquePointer?
        let status = kmt_rig_load_memory(bytes, bytes.count, &rig)
        guard status == KMT_OK, let rig else { throw libraryError(status) }
        try self.init(owning: rig)
    }

    /// Takes ownership of `rig` (freed here when its properties cannot be read).
    init(owning rig: OpaquePointer) throws {
        do {
            vertexCount = try libraryValue(0) { kmt_rig_vertex_count(rig, $0) }
            faceCount = try libraryValue(0) { kmt_rig_face_count(rig, $0) }
            shapeCount = try libraryValue(0) { kmt_rig_shape_count(rig, $0) }
            shapeNames = try (0..<shapeCount).map { index in try libraryString { kmt_rig_shape_name(rig, index, $0) } }
        } catch {
            kmt_rig_free(rig)
            throw error
        }
        pointer = rig
    }

    deinit { kmt_rig_free(pointer) }

    /// The neutral positions, V x 3 floats in the rig's units (`kmt_rig_read_vertices`).
    func vertices() throws -> [Float] {
        try read(count: vertexCount * 3) { kmt_rig_read_vertices(pointer, $0, $1, $2) }
    }

    /// The triangles, F x 3 vertex indices (`kmt_rig_read_faces`).
    func faces() throws -> [Int32] {
        try read(count: faceCount * 3) { kmt_rig_read_faces(pointer, $0, $1, $2) }
    }

    /// Shape `shape`'s deltas, V x 3 floats in the rig's units (`kmt_rig_read_deltas`).
    func deltas(shape: Int) throws -> [Float] {
        try read(count: vertexCount * 3) { kmt_rig_read_deltas(pointer, shape, $0, $1, $2) }
    }

    /// Metres per unit of the rig's positions (its "units" metadata: m, cm or mm).
    var metresPerUnit: Float {
        var length = 0
        var text = [CChar](repeating: 0, count: 8)
        guard kmt_rig_metadata(pointer, "units", &text, text.count, &length) == KMT_OK else { return 1 }
        switch String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) {
        case "cm": return 0.01
        case "mm": return 0.001
        default: return 1
        }
    }

    /// `count` elements from a sized accessor of the C API.
    private func read<Element: Numeric>(
        count: Int, _ accessor: (UnsafeMutablePointer<Element>, Int, UnsafeMutablePointer<Int>) -> kmt_status
    ) throws -> [Element] {
        var values = [Element](repeating: 0, count: count)
        var written = 0
        let status = values.withUnsafeMutableBufferPointer { accessor($0.baseAddress!, count, &written) }
        guard status == KMT_OK else { throw libraryError(status) }
        return values
    }

    /// The metadata value stored under `key`, or nil when the rig has none.
    func metadata(_ key: String) -> String? {
        var length = 0
        let probe = kmt_rig_metadata(pointer, key, nil, 0, &length)
        guard probe == KMT_OK || probe == KMT_ERR_BUFFER_TOO_SMALL else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard kmt_rig_metadata(pointer, key, &buffer, buffer.count, &length) == KMT_OK else { return nil }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// For each shape, the index into `names` that drives it, or nil (`kmt_rig_match_names`).
    func match(_ names: [String]) throws -> [Int?] {
        var pointers = names.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        var drivers = [Int32](repeating: -1, count: shapeCount)
        var written = 0
        let status = pointers.withUnsafeMutableBufferPointer { list in
            list.withMemoryRebound(to: UnsafePointer<CChar>?.self) { names in
                kmt_rig_match_names(pointer, names.baseAddress, names.count, &drivers, drivers.count, &written)
            }
        }
        guard status == KMT_OK else { throw libraryError(status) }
        return drivers.map { $0 < 0 ? nil : Int($0) }
    }

    /// How many of the rig's shapes `animation`'s channels drive.
    func drivenShapes(by animation: AnimationHandle) -> Int {
        var unmatched = 0
        _ = kmt_rig_unmatched_shapes(pointer, animation.pointer, nil, 0, &unmatched)
        return shapeCount - unmatched
    }
}

/// Owns a `kmt_audio` handle: a file decoded by the library to mono float samples.
final class AudioHandle {
    let pointer: OpaquePointer

    /// The rate of the decoded samples, Hz.
    let sampleRate: Int32
    /// The mono samples, owned by the handle (valid while it lives).
    let samples: UnsafeBufferPointer<Float>
    /// libsndfile's name for the file's container and encoding.
    let formatName: String
    /// The file's own rate (Hz) and channel count.
    let sourceRate: Int32, sourceChannels: Int32

    /// Decodes `path` at `sampleRate` Hz (0: the file's own rate).
    init(path: String, sampleRate: Int32) throws {
        var params: kmt_audio_params = try defaultParams(kmt_audio_params_init)
        params.sample_rate = sampleRate
        var audio: OpaquePointer?
        let status = kmt_audio_load_file(path, &params, &audio)
        guard status == KMT_OK, let audio else { throw libraryError(status) }
        do {
            self.sampleRate = try libraryValue(0) { kmt_audio_sample_rate(audio, $0) }
            let count = try libraryValue(0) { kmt_audio_sample_count(audio, $0) }
            samples = UnsafeBufferPointer(start: try libraryValue(nil) { kmt_audio_samples(audio, $0) }, count: count)
            formatName = try libraryString { kmt_audio_format_name(audio, $0) }
            sourceRate = try libraryValue(0) { kmt_audio_source_rate(audio, $0) }
            sourceChannels = try libraryValue(0) { kmt_audio_source_channels(audio, $0) }
        } catch {
            kmt_audio_free(audio)
            throw error
        }
        pointer = audio
    }

    deinit { kmt_audio_free(pointer) }
}

/// An animation copied into Swift values.
struct AnimationResult {
    var fps: Double
    var channels: [String]
    /// Row-major [frames, channels].
    var values: [Float]
    var frameCount: Int { channels.isEmpty ? 0 : values.count / channels.count }

    init(_ animation: OpaquePointer) throws {
        fps = try libraryValue(0) { kmt_animation_fps(animation, $0) }
        let channelCount = try libraryValue(0) { kmt_animation_channel_count(animation, $0) }
        channels = try (0..<channelCount).map { index in try libraryString { kmt_animation_channel_name(animation, index, $0) } }
        let frames = try libraryValue(0) { kmt_animation_frame_count(animation, $0) }
        values = [Float](repeating: 0, count: frames * channelCount)
        let status = kmt_animation_read_frames(animation, 0, frames, &values, values.count, nil)
        guard status == KMT_OK else { throw libraryError(status) }
    }
}
