import CKMTalk
import Foundation

/// The rig importers' common path, through the C API like any host: `kmt_rig_import_file`
/// with the command's options, `kmt_rig_save` (float32 or float16 deltas), the importer's
/// notes (the library's log at KMT_LOG_INFO) and a summary on stderr.
struct RigFileOutput {
    /// Where the rig goes.
    let path: String
    /// Whether deltas are stored as float16.
    let half: Bool
    /// No progress bar, notes or summary.
    var quiet = false

    /// Imports `source`, writes the rig and prints notes and a summary; `started` times it.
    /// A progress bar shows on a terminal; Ctrl-C stops the import (exit 130, no file).
    func write(importing source: String, params: inout kmt_rig_import_params, started: Date) throws {
        try Interrupt.withProgress(quiet: quiet, task: "import") { bar in
            params.progress = ProgressBar.callback
            params.progress_user_data = bar.userData
            try write(importing: source, params: &params, started: started, bar: bar)
        }
    }

    private func write(importing source: String, params: inout kmt_rig_import_params, started: Date, bar: ProgressBar) throws {
        kmt_log_set({ level, message, userData in
            guard level.rawValue >= KMT_LOG_INFO.rawValue, let message, let userData else { return }
            let bar = Unmanaged<ProgressBar>.fromOpaque(userData).takeUnretainedValue()
            let text = String(cString: message)
            guard level != KMT_LOG_INFO || (!bar.quiet && !text.hasPrefix("imported rig ")) else { return }
            bar.clear()
            RigFileOutput.standardError(level == KMT_LOG_INFO ? "note: \(text)" : "warning: \(text)")
        }, KMT_LOG_INFO, bar.userData)
        defer { kmt_log_set(nil, KMT_LOG_WARNING, nil) }
        var rig: OpaquePointer?
        try check(kmt_rig_import_file(source, &params, &rig))
        defer { kmt_rig_free(rig) }
        bar.clear()
        guard !Interrupt.requested else { throw CLIError("interrupted", status: KMT_ERR_CANCELLED) }
        try check(kmt_rig_save(rig, path, half ? KMT_RIG_SAVE_HALF : 0))
        guard !quiet else { return }
        let elapsed = Date().timeIntervalSince(started)
        let units = Self.metadata(rig, "units") ?? "?"
        let vertices = try libraryValue(0) { kmt_rig_vertex_count(rig, $0) }
        let faces = try libraryValue(0) { kmt_rig_face_count(rig, $0) }
        let shapes = try libraryValue(0) { kmt_rig_shape_count(rig, $0) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        Self.standardError(
            "\(path): \(vertices) vertices, \(faces) triangles, "
                + "\(shapes) shapes, units \(units), deltas \(half ? "F16" : "F32")"
                + String(format: ", %.2f MiB in %.2f s", Double(size) / 1_048_576, elapsed))
    }

    /// A failed call as the CLI's error, with the library's message and status.
    private func check(_ status: kmt_status) throws {
        guard status == KMT_OK else { throw CLIError(String(cString: kmt_last_error()), status: status) }
    }

    /// The rig's metadata value under `key`, or nil.
    static func metadata(_ rig: OpaquePointer?, _ key: String) -> String? {
        var length = 0
        guard kmt_rig_metadata(rig, key, nil, 0, &length) == KMT_ERR_BUFFER_TOO_SMALL else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard kmt_rig_metadata(rig, key, &buffer, buffer.count, &length) == KMT_OK else { return nil }
        return String(cString: buffer)
    }

    /// Writes a line to stderr.
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
