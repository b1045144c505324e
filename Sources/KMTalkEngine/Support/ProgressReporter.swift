
/// The progress of one long call (an offline animation, an export, a rig import) as the
/// host sees it through `kmt_progress_callback`, and the host's way to cancel it.
///
/// The engine reports as often as it likes (`report`); this type keeps the promises of
/// include/kmtalk.h: fractions never decrease and stay in 0...1, the host is called only
/// when the fraction grew by `step` or the stage changed (so about 100 calls plus one per
/// stage, whatever the input's length), on the calling thread, during the call. When the
/// host answers "stop", `report` throws KMT_ERR_CANCELLED, which unwinds the call through
/// the same clean-up paths as any other error (no animation returned, temporary files
/// removed), and the host is not called again.
///
/// Not thread-safe: one call, one thread.
final class ProgressReporter {
    /// Receives the fraction done and the stage's name (a static string, so a C host may
    /// keep the pointer); returns false to cancel.
    typealias Callback = (Double, StaticString) -> Bool

    /// The smallest growth of the fraction that is delivered (1%).
    static let step = 0.01

    private let callback: Callback
    /// The last fraction and stage delivered to the host (-1: none yet).
    private var delivered = -1.0
    private var deliveredStage: StaticString?
    /// The largest fraction reported so far (fractions never go back).
    private var reached = 0.0
    /// Set once the host cancelled or 1.0 was delivered: nothing more is delivered.
    private var closed = false

    /// A reporter that calls `callback`.
    init(_ callback: @escaping Callback) {
        self.callback = callback
    }

    /// Reports that `fraction` (clamped to 0...1, never below an earlier one) of the call
    /// is done, in `stage`. Delivered when the stage changed or the fraction grew by
    /// `step` since the last delivery; 1.0 is left to `finish`. Throws KMT_ERR_CANCELLED
    /// when the host asks to stop.
    func report(_ fraction: Double, stage: StaticString) throws {
        guard !closed else { return }
        let clamped = fraction.isNaN ? reached : min(max(fraction, reached), 1)
        reached = clamped
        let shown = min(clamped, 1 - Self.step / 2)  // 1.0 only from `finish`
        guard shown >= delivered + Self.step || !Self.same(stage, deliveredStage) else { return }
        try deliver(shown, stage: stage)
    }

    /// Whether two stage names have the same text.
    static func same(_ stage: StaticString, _ other: StaticString?) -> Bool {
        guard let other else { return false }
        return stage.withUTF8Buffer { a in other.withUTF8Buffer { b in a.elementsEqual(b) } }
    }

    /// Reports the end of the call, fraction 1.0, once. Called before the results are
    /// committed, so a host that stops here still gets KMT_ERR_CANCELLED and no results.
    func finish(stage: StaticString) throws {
        guard !closed else { return }
        reached = 1
        try deliver(1, stage: stage)
        closed = true
    }

    /// A reporter for the part `range` of this call's fraction: `report(f)` on the result
    /// reports `range.lowerBound + f * (range.upperBound - range.lowerBound)` in `stage`.
    func part(_ range: ClosedRange<Double>, stage: StaticString) -> (Double) throws -> Void {
        { [self] fraction in
            try report(range.lowerBound + min(max(fraction, 0), 1) * (range.upperBound - range.lowerBound), stage: stage)
        }
    }

    private func deliver(_ fraction: Double, stage: StaticString) throws {
        delivered = fraction
        deliveredStage = stage
        guard callback(fraction, stage) else {
            closed = true
            let percent = Int((fraction * 100).rounded(.down))
            throw KMTError(.cancelled, "cancelled by the progress callback during \(stage) (\(percent)% done)")
        }
    }
}

extension Optional where Wrapped == ProgressReporter {
    /// `report` on the reporter, when there is one.
    func report(_ fraction: Double, stage: StaticString) throws {
        try self?.report(fraction, stage: stage)
    }

    /// `finish` on the reporter, when there is one.
    func finish(stage: StaticString) throws {
        try self?.finish(stage: stage)
    }

    /// `part` of the reporter, or nil.
    func part(_ range: ClosedRange<Double>, stage: StaticString) -> ((Double) throws -> Void)? {
        self?.part(range, stage: stage)
    }
}
