import ArgumentParser
import CKMTalk
import Foundation
import Synchronization

/// Ctrl-C as a request to stop cleanly. `install` makes SIGINT set `requested` instead of
/// killing the process; the library's progress callbacks (`ProgressBar.callback`) return it,
/// so a long call stops at its next step with KMT_ERR_CANCELLED after removing what it had
/// staged, and the command exits with status 130 (128 + SIGINT) having written nothing.
/// The handler resets itself: a second Ctrl-C ends the process at once.
enum Interrupt {
    /// Set by the SIGINT handler (lock-free, so safe to store from a signal handler).
    static let flag = Atomic<Bool>(false)

    /// The exit status of a command stopped by Ctrl-C.
    static let exitStatus: Int32 = 130

    /// Whether Ctrl-C was pressed since `install`.
    static var requested: Bool { flag.load(ordering: .relaxed) }

    /// Routes SIGINT to `flag` (once per process; later calls only clear the flag).
    static func install() {
        flag.store(false, ordering: .relaxed)  // initialises the global before the handler can run
        guard !installed.exchange(true, ordering: .relaxed) else { return }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Interrupt.flag.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(SA_RESTART) | Int32(bitPattern: UInt32(truncatingIfNeeded: SA_RESETHAND))
        sigaction(SIGINT, &action, nil)
    }

    private static let installed = Atomic<Bool>(false)

    /// Runs a command's long `work` with Ctrl-C routed to `requested` and a progress bar on
    /// stderr (cleared before any message is printed); a cancellation (KMT_ERR_CANCELLED
    /// from the library, or any error after Ctrl-C) ends the command with exit 130 and
    /// `detail`. `task` names the bar's work when the library's stages do not.
    static func withProgress<T>(quiet: Bool, task: String? = nil, stopped detail: String = "nothing was written",
                                _ work: (ProgressBar) throws -> T) throws -> T {
        install()
        let bar = ProgressBar(quiet: quiet)
        if let task { bar.task = task }
        do {
            return try withExtendedLifetime(bar) {
                defer { bar.clear() }  // before any error message
                return try work(bar)
            }
        } catch let error as CLIError where error.status == KMT_ERR_CANCELLED {
            throw stop(detail)
        } catch where requested {
            throw stop(detail)
        }
    }

    /// The error a command throws when it stopped for Ctrl-C: a note on stderr, exit 130.
    static func stop(_ detail: String = "nothing was written") -> ExitCode {
        ProgressBar.clearLine()
        FileHandle.standardError.write(Data("kmtalk: interrupted; \(detail)\n".utf8))
        return ExitCode(exitStatus)
    }
}
