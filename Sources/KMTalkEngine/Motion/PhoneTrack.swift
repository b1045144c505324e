/// The phones a key-motion model recognized in the speech, as timed segments: the most
/// likely phone of each native frame (the LKMA phone head's posteriors), consecutive
/// frames with the same phone merged. Frame t covers [t, t + 1) / fps seconds, as in the
/// training corpus; `_` is a pause. What `KMT_EXPORT_PHONES_TSV` writes.
struct PhoneTrack: Sendable, Equatable {
    /// One run of frames with the same most likely phone.
    struct Segment: Sendable, Equatable {
        /// Start and end in seconds.
        var start: Double
        var end: Double
        /// The phone (the model's inventory: IPA symbols, `_` for a pause).
        var phone: String
        /// The mean posterior of `phone` over the segment's frames, 0...1.
        var confidence: Float
    }

    /// The segments in time order, contiguous from 0 to the audio's frame span.
    let segments: [Segment]

    /// Builds the track from `posteriors` [frames, phones] at `fps` frames per second, each
    /// column the phone `phones[column]`. Ties go to the lower column, as argmax does.
    init(posteriors: Tensor, phones: [String], fps: Double) {
        precondition(posteriors.shape.count == 2 && posteriors.shape[1] == phones.count && fps > 0)
        let frames = posteriors.shape[0], count = phones.count
        var segments: [Segment] = []
        guard frames > 0, count > 0 else {
            self.segments = []
            return
        }
        var runPhone = -1, runStart = 0
        var runSum: Float = 0
        func close(at end: Int) {
            guard runPhone >= 0 else { return }
            segments.append(Segment(
                start: Double(runStart) / fps, end: Double(end) / fps, phone: phones[runPhone],
                confidence: runSum / Float(end - runStart)))
        }
        posteriors.data.withUnsafeBufferPointer { values in
            for frame in 0..<frames {
                var best = 0
                var bestValue = values[frame * count]
                for column in 1..<count where values[frame * count + column] > bestValue {
                    best = column
                    bestValue = values[frame * count + column]
                }
                if best != runPhone {
                    close(at: frame)
                    runPhone = best
                    runStart = frame
                    runSum = 0
                }
                runSum += bestValue
            }
        }
        close(at: frames)
        self.segments = segments
    }
}
