import Glibc

/// The loudness path's input, frame by frame (docs/model.md, "The loudness path"): how loud
/// each native frame is relative to the loudest of the last `window` frames, from the log-mel
/// rows alone, so it does not change with the signal's gain:
///
///     L[j] = ln(sum_b exp(logmel[j, b]))                       mel frame j
///     e[t] = mean of L[j], j in [s t - s/2, s t + s/2] clamped to the mel frames
///     f[t] = max(0, 1 + (e[t] - max(floor, e[t - window + 1 ... t])) / D)
///
/// One implementation for both drivers: the offline path pushes every mel row and takes
/// the frames with `ended`; a stream pushes rows as they arrive and takes each frame once
/// its last mel row exists. It keeps only the rows and levels later frames can still use.
struct LoudnessTracker: Sendable {
    let settings: LoudnessConfig
    /// The encoder's total conv stride (mel frames per native frame).
    let stride: Int
    /// L of the mel rows from absolute row `levelBase` on.
    private var levels: [Double] = []
    private var levelBase = 0
    /// Mel rows pushed.
    private(set) var melCount = 0
    /// e of the last `window - 1` frames produced (the running peak's look-back).
    private var recent: [Double] = []
    /// Native frames produced.
    private(set) var produced = 0

    init(settings: LoudnessConfig, stride: Int) {
        self.settings = settings
        self.stride = max(1, stride)
    }

    /// Appends log-mel rows [n, n_mels].
    mutating func push(_ rows: Tensor) {
        let n = rows.shape[0], width = rows.shape.count > 1 ? rows.shape[1] : 0
        guard n > 0, width > 0 else { return }
        levels.reserveCapacity(levels.count + n)
        rows.data.withUnsafeBufferPointer { data in
            for r in 0..<n {
                let row = UnsafeBufferPointer(rebasing: data[(r * width)..<((r + 1) * width)])
                // ln sum exp, shifted by the row's maximum; expf on the (<= 0) differences
                // is exact to float rounding and a third the cost of exp in Double.
                var top = -Float.infinity
                for value in row { top = Swift.max(top, value) }
                var sum = 0.0
                for value in row { sum += Double(expf(value - top)) }
                levels.append(Double(top) + log(sum))
            }
        }
        melCount += n
    }

    /// f of the frames that became final since the last call: a frame once its last mel row
    /// has been pushed, or, with `ended` (every mel row pushed), every frame up to
    /// `frames` in all, their windows clamped to the last mel row.
    mutating func advance(ended: Bool, frames: Int = 0) -> [Float] {
        let half = stride / 2
        let end = ended ? frames : (melCount > half ? (melCount - 1 - half) / stride + 1 : 0)
        guard end > produced else { return [] }
        let span = settings.rangeDecibels * log(10.0) / 10.0
        let window = settings.window
        var result: [Float] = []
        result.reserveCapacity(end - produced)
        for t in produced..<end {
            let lo = Swift.max(0, stride * t - half), hi = Swift.min(melCount - 1, stride * t + half)
            var e: Double
            if hi >= lo, lo >= levelBase {
                var sum = 0.0
                for j in lo...hi { sum += levels[j - levelBase] }
                e = sum / Double(hi - lo + 1)
            } else {  // no mel row in the window (only past the end): the last row's level
                e = levels.last ?? settings.floor
            }
            if !e.isFinite { e = settings.floor }
            var peak = Swift.max(settings.floor, e)
            for value in recent { peak = Swift.max(peak, value) }
            result.append(Float(Swift.max(0, 1 + (e - peak) / span)))
            recent.append(e)
            if recent.count > window - 1 { recent.removeFirst(recent.count - (window - 1)) }
        }
        produced = end
        // Rows no later frame reads (the next frame's window starts at s t - s/2).
        let keep = Swift.min(melCount - 1, Swift.max(levelBase, stride * produced - half))
        if keep > levelBase {
            levels.removeFirst(keep - levelBase)
            levelBase = keep
        }
        return result
    }
}
