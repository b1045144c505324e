import CKMTalk
import Foundation
import Glibc

/// The one-line progress bar `kmtalk` draws on stderr while the library works (animating,
/// exporting, importing a rig) and while it renders a preview:
///
///     animate [##############----------------]  47% network
///
/// Drawn only when stderr is a terminal and `--quiet` is not given; redrawn when the
/// percentage or the stage changes, and erased before anything else is written. Its C
/// callback (`callback`, with `userData`) is what the CLI passes as every
/// `kmt_progress_callback`, also when nothing is drawn: it returns Ctrl-C (`Interrupt`)
/// to the library as a cancellation.
final class ProgressBar {
    /// Whether the bar is drawn.
    let enabled: Bool
    /// Whether the command was asked to be quiet (--quiet).
    let quiet: Bool
    /// What the command is doing ("animate", "export", "import", "render"), before the bar.
    var task = ""
    /// The last line drawn (to skip identical redraws).
    private var drawn = ""
    /// Width of the bar itself, in characters.
    static let width = 30

    /// A bar on stderr unless `quiet` or stderr is not a terminal.
    init(quiet: Bool) {
        self.quiet = quiet
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    /// Draws `fraction` (0...1) of the current task in `stage`.
    func update(_ fraction: Double, stage: String) {
        guard enabled else { return }
        let clamped = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        let filled = Int((clamped * Double(Self.width)).rounded(.down))
        let percent = Int((clamped * 100).rounded(.down))
        let line = "\(task) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: Self.width - filled)
            + "] " + String(repeating: " ", count: 3 - min(3, String(percent).count)) + "\(percent)%"
            + (stage.isEmpty || stage == task ? "" : " " + stage)
        guard line != drawn else { return }
        drawn = line
        Self.emit("\r\u{1B}[K" + line)
    }

    /// Erases the bar (before a message, or at the end).
    func clear() {
        guard enabled, !drawn.isEmpty else { return }
        drawn = ""
        Self.clearLine()
    }

    /// Erases the current line of a terminal stderr (nothing otherwise).
    static func clearLine() {
        if isatty(STDERR_FILENO) == 1 { emit("\r\u{1B}[K") }
    }

    /// The pointer to pass as the callback's user data (valid while the bar lives).
    var userData: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The `kmt_progress_callback` of every long call: draws on the bar its user data
    /// points to (if any) and returns nonzero once Ctrl-C was pressed.
    static let callback: kmt_progress_callback = { fraction, stage, userData in
        if let userData {
            let bar = Unmanaged<ProgressBar>.fromOpaque(userData).takeUnretainedValue()
            bar.update(Double(fraction), stage: stage.map { String(cString: $0) } ?? "")
        }
        return Interrupt.requested ? 1 : 0
    }

    /// Writes `text` to stderr unbuffered.
    private static func emit(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
