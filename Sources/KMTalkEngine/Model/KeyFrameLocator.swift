/// Finds key frames (phone boundaries) from per-frame phone posteriors, as in
/// docs/model.md: boundary score `b[t] = 1 - sum_p post[t,p] post[t-1,p]`; frame 0 is a
/// key frame; t is a key frame at a local peak `b[t] >= threshold`, `b[t] >= b[t-1]`,
/// `b[t] > b[t+1]` at least `minimumGap` frames after the previous one, or when
/// `maximumGap` frames have passed without one. One frame of look-ahead.
public struct KeyFrameLocator: Sendable, Equatable {
    public var threshold: Float
    public var minimumGap: Int
    public var maximumGap: Int

    public init(threshold: Float, minimumGap: Int, maximumGap: Int) {
        self.threshold = threshold
        self.minimumGap = minimumGap
        self.maximumGap = maximumGap
    }

    /// Boundary scores [T] from posteriors [T, P].
    public func boundaryScores(_ posteriors: Tensor) -> [Float] {
        let frames = posteriors.shape[0], width = posteriors.shape[1]
        var scores = [Float](repeating: 0, count: frames)
        posteriors.data.withUnsafeBufferPointer { p in
            for t in 1..<max(frames, 1) {
                var overlap: Float = 0
                for k in 0..<width { overlap += p[t * width + k] * p[(t - 1) * width + k] }
                scores[t] = 1 - overlap
            }
        }
        return scores
    }

    /// Key-frame indices for boundary scores.
    public func keyFrames(_ scores: [Float]) -> [Int] {
        guard !scores.isEmpty else { return [] }
        var keys = [0]
        var last = 0
        for t in 1..<scores.count {
            let following: Float = t + 1 < scores.count ? scores[t + 1] : -1
            let peak = scores[t] >= threshold && scores[t] >= scores[t - 1] && scores[t] > following
            if (peak && t - last >= minimumGap) || t - last >= maximumGap {
                keys.append(t)
                last = t
            }
        }
        return keys
    }
}
