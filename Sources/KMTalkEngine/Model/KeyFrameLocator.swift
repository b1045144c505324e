/// Finds key frames (phone boundaries) from per-frame phone posteriors, as in
/// docs/model.md: boundary score `b[t] = 1 - sum_p post[t,p] post[t-1,p]`; frame 0 is a
/// key frame; t is a key frame at a local peak `b[t] >= threshold`, `b[t] >= b[t-1]`,
/// `b[t] > b[t+1]` at least `minimumGap` frames after the previous one, or when
/// `maximumGap` frames have passed without one. One frame of look-ahead.
struct KeyFrameLocator: Sendable, Equatable {
    var threshold: Float
    var minimumGap: Int
    var maximumGap: Int

    init(threshold: Float, minimumGap: Int, maximumGap: Int) {
        self.threshold = threshold
        self.minimumGap = minimumGap
        self.maximumGap = maximumGap
    }

    /// Boundary score of a frame from its posteriors and the previous frame's (`width` each).
    static func boundaryScore(_ current: UnsafePointer<Float>, previous: UnsafePointer<Float>, width: Int) -> Float {
        var overlap: Float = 0
        for k in 0..<width { overlap += current[k] * previous[k] }
        return 1 - overlap
    }

    /// Boundary scores [T] from posteriors [T, P].
    func boundaryScores(_ posteriors: Tensor) -> [Float] {
        let frames = posteriors.shape[0], width = posteriors.shape[1]
        var scores = [Float](repeating: 0, count: frames)
        posteriors.data.withUnsafeBufferPointer { p in
            for t in 1..<max(frames, 1) {
                scores[t] = Self.boundaryScore(p.baseAddress! + t * width, previous: p.baseAddress! + (t - 1) * width, width: width)
            }
        }
        return scores
    }

    /// Key-frame indices for boundary scores: the scan run over the whole sequence.
    func keyFrames(_ scores: [Float]) -> [Int] {
        var scan = KeyFrameScan(locator: self)
        var keys: [Int] = []
        for t in 0..<scores.count where scan.decideNext(total: scores.count, score: { scores[$0] }) {
            keys.append(t)
        }
        return keys
    }
}

/// The locator's sequential decision, one frame at a time, with its state (the last key
/// frame) kept between calls: the offline `keyFrames` runs it over the whole sequence,
/// streaming as the scores of each next frame arrive.
struct KeyFrameScan: Sendable {
    let locator: KeyFrameLocator
    /// Frames decided so far (the next one to decide).
    private(set) var decided = 0
    private var lastKey = 0

    init(locator: KeyFrameLocator) {
        self.locator = locator
    }

    /// Decides frame `decided` from `score(t)` of it and its neighbours, with the edge rules
    /// in one place: no previous frame scores 0, no following frame -1. `total` is the
    /// sequence's frame count, nil while a stream has not ended (the next frame exists).
    mutating func decideNext(total: Int?, score: (Int) -> Float) -> Bool {
        let t = decided
        let previous: Float = t > 0 ? score(t - 1) : 0
        let following: Float = (total.map { t + 1 < $0 } ?? true) ? score(t + 1) : -1
        return decide(previous: previous, current: score(t), following: following)
    }

    /// Decides frame `decided` from its boundary score, the previous frame's and the next
    /// frame's (-1 past the end of the sequence); returns whether it is a key frame.
    mutating func decide(previous: Float, current: Float, following: Float) -> Bool {
        let t = decided
        decided += 1
        if t == 0 {
            lastKey = 0
            return true
        }
        let peak = current >= locator.threshold && current >= previous && current > following
        guard (peak && t - lastKey >= locator.minimumGap) || t - lastKey >= locator.maximumGap else { return false }
        lastKey = t
        return true
    }
}
