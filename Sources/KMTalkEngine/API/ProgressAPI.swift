import CKMTalk

/// The host's `kmt_progress_callback` and its user data as the engine's progress callback
/// (`ProgressReporter.Callback`): nonzero from the host means "stop". nil for a NULL
/// callback. Stage names are string literals (`StaticString`, NUL-terminated), so the
/// pointer the host receives stays valid for the life of the library.
func progressCallback(_ callback: kmt_progress_callback?, _ userData: UnsafeMutableRawPointer?) -> ProgressReporter.Callback? {
    guard let callback else { return nil }
    return { fraction, stage in
        callback(Float(fraction), UnsafeRawPointer(stage.utf8Start).assumingMemoryBound(to: CChar.self), userData) == 0
    }
}
