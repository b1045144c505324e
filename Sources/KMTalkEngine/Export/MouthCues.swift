/// One mouth cue: `shape` from frame `startFrame` up to (not including) `endFrame`, and the
/// same span in whole centiseconds, the resolution Rhubarb Lip Sync's files use.
struct MouthCue: Sendable, Equatable {
    let shape: MouthShape
    /// First frame of the cue.
    let startFrame: Int
    /// The frame after the cue's last one.
    let endFrame: Int
    /// Start time in centiseconds (0.01 s), as written.
    let startCentiseconds: Int
    /// End time in centiseconds; the next cue's start.
    let endCentiseconds: Int

    /// Start time in seconds, as written (a multiple of 0.01).
    var start: Double { Double(startCentiseconds) / 100 }
    /// End time in seconds, as written.
    var end: Double { Double(endCentiseconds) / 100 }
}

/// A mouth-cue track for 2D characters (Rhubarb Lip Sync's shapes and file formats): which
/// `MouthShape` to show from when to when, covering the animation from 0 to its end
/// without gaps. Frame i holds from i / fps until the next frame, so the track lasts
/// `frameCount / fps` seconds.
struct MouthCueTrack: Sendable {
    /// The cues in time order; each ends where the next starts, and neighbours differ in
    /// shape.
    let cues: [MouthCue]
    /// The whole track's length in centiseconds (the last cue's end).
    let durationCentiseconds: Int
    /// The audio file the animation came from; nil for PCM input.
    let source: String?
    /// The shape of the mouth at rest, which closes the TSV and DAT files and fills an
    /// empty track: X, or A when X is not among the enabled extended shapes (`limited`).
    let restShape: MouthShape

    /// A track of `cues` lasting `durationCentiseconds`, from `source`, closed by
    /// `restShape`.
    init(cues: [MouthCue], durationCentiseconds: Int, source: String?, restShape: MouthShape = .x) {
        self.cues = cues
        self.durationCentiseconds = durationCentiseconds
        self.source = source
        self.restShape = restShape
    }

    /// The track's length in seconds, as written.
    var duration: Double { Double(durationCentiseconds) / 100 }

    /// The cues the JSON and XML files list: `cues`, or for a track without any (an
    /// animation without frames) one zero-length rest cue, as Rhubarb writes for empty
    /// recordings.
    var listedCues: [MouthCue] {
        cues.isEmpty ? [MouthCue(shape: restShape, startFrame: 0, endFrame: 0, startCentiseconds: 0, endCentiseconds: 0)] : cues
    }

    /// The track as drawn with only the extended shapes in `enabled` (a subset of G, H,
    /// X), as Rhubarb's `--extendedShapes` does it: every other extended shape becomes its
    /// basic shape (G -> B, H -> C, X -> A, the closing rest shape included), then
    /// neighbouring cues of the same shape are joined into one (Rhubarb's timeline of
    /// shapes joins equal neighbours), so neighbours still differ.
    func limited(to enabled: Set<MouthShape>) -> MouthCueTrack {
        guard !MouthShape.extendedShapes.isSubset(of: enabled) else { return self }
        var joined: [MouthCue] = []
        for cue in cues {
            let shape = cue.shape.limited(to: enabled)
            if let last = joined.last, last.shape == shape {
                joined[joined.count - 1] = MouthCue(
                    shape: shape, startFrame: last.startFrame, endFrame: cue.endFrame,
                    startCentiseconds: last.startCentiseconds, endCentiseconds: cue.endCentiseconds)
            } else {
                joined.append(MouthCue(
                    shape: shape, startFrame: cue.startFrame, endFrame: cue.endFrame,
                    startCentiseconds: cue.startCentiseconds, endCentiseconds: cue.endCentiseconds))
            }
        }
        return MouthCueTrack(
            cues: joined, durationCentiseconds: durationCentiseconds, source: source,
            restShape: restShape.limited(to: enabled))
    }
}

/// Derives mouth cues from an animation's ARKit weights (`MouthShapeClassifier`): one shape
/// per frame, refined by the recognized phones when the animation has them
/// (`PhoneCueRefiner`: H for laterals, G for labiodentals), runs of equal shapes joined, then runs shorter than the minimum duration
/// merged into a neighbour, except closures.
enum MouthCues {
    /// The shortest cue kept (two frames at 50 fps): shorter runs are blips that a drawn
    /// mouth would only flicker through.
    static let minimumDuration = 0.04

    /// The cue track of `animation`. Short runs (under `minimumDuration`) are merged,
    /// shortest and earliest first, into the neighbour that is not a closure (A), else the
    /// longer one, else the earlier one; a closure (A) is never merged away however short,
    /// since a missed closure is the most visible lip-sync error. Errors:
    /// KMT_ERR_INVALID_ARGUMENT when the animation has no ARKit `jawOpen` channel, or for a
    /// negative or non-finite `minimumDuration`.
    ///
    /// `extendedShapes` limits the track to those of Rhubarb's extended shapes (G, H, X;
    /// all by default): see `MouthCueTrack.limited(to:)`, applied after the merging.
    static func track(
        for animation: Animation, minimumDuration: Double = minimumDuration,
        extendedShapes: Set<MouthShape> = MouthShape.extendedShapes
    ) throws -> MouthCueTrack {
        guard minimumDuration.isFinite, minimumDuration >= 0 else {
            throw KMTError.invalidArgument("minimum cue duration \(minimumDuration) s is not a finite number >= 0")
        }
        let classifier = try MouthShapeClassifier(
            channelNames: animation.channelNames, thresholds: animation.mouthCueThresholds)
        let width = animation.channelCount
        var shapes: [MouthShape] = []
        shapes.reserveCapacity(animation.frameCount)
        animation.values.data.withUnsafeBufferPointer { values in
            for frame in 0..<animation.frameCount {
                shapes.append(classifier.shape(UnsafeBufferPointer(rebasing: values[(frame * width)..<((frame + 1) * width)])))
            }
        }
        if let phones = animation.phones {
            shapes = PhoneCueRefiner(track: phones).refine(shapes, fps: animation.fps)
        }
        let minimumFrames = minimumDuration * animation.fps - 1e-9
        let runs = mergeShortRuns(runs(of: shapes), minimumFrames: minimumFrames)
        return timed(runs, frameCount: animation.frameCount, fps: animation.fps, source: animation.source)
            .limited(to: extendedShapes)
    }

    /// A run of frames with one shape: [start, end).
    struct Run: Equatable {
        var shape: MouthShape
        var start: Int
        var end: Int
        var length: Int { end - start }
    }

    /// Runs of equal shapes in `shapes`.
    static func runs(of shapes: [MouthShape]) -> [Run] {
        var runs: [Run] = []
        for (frame, shape) in shapes.enumerated() {
            if let last = runs.last, last.shape == shape {
                runs[runs.count - 1].end = frame + 1
            } else {
                runs.append(Run(shape: shape, start: frame, end: frame + 1))
            }
        }
        return runs
    }

    /// Merges runs shorter than `minimumFrames` (other than A) into a neighbour, the
    /// shortest and earliest first, joining the grown run with a neighbour of the same
    /// shape, until none is left. Works on a linked list, one pass per short length, so
    /// the cost is frames x minimum length at worst.
    static func mergeShortRuns(_ input: [Run], minimumFrames: Double) -> [Run] {
        var runs = input
        let none = -1
        var previous = runs.indices.map { $0 - 1 }
        var next = runs.indices.map { $0 + 1 < runs.count ? $0 + 1 : none }
        var head = runs.isEmpty ? none : 0
        var alive = runs.count
        /// Takes run `index` out of the list (its frames already belong to a neighbour).
        func unlink(_ index: Int) {
            let before = previous[index], after = next[index]
            if before != none { next[before] = after } else { head = after }
            if after != none { previous[after] = before }
            alive -= 1
        }
        let frameCount = runs.last?.end ?? 0
        var length = 1
        while Double(length) < minimumFrames, length <= frameCount {
            // Merging only lengthens runs, so one left-to-right pass per length visits the
            // short runs shortest and earliest first.
            var cursor = head
            while cursor != none, alive > 1 {
                let run = runs[cursor]
                guard run.shape != .a, run.length == length else {
                    cursor = next[cursor]
                    continue
                }
                let before = previous[cursor], after = next[cursor]
                let target: Int
                if before != none, after != none {
                    let beforeIsA = runs[before].shape == .a, afterIsA = runs[after].shape == .a
                    if beforeIsA != afterIsA {
                        target = beforeIsA ? after : before
                    } else {
                        target = runs[after].length > runs[before].length ? after : before
                    }
                } else {
                    target = before != none ? before : after
                }
                if target == before { runs[target].end = run.end } else { runs[target].start = run.start }
                unlink(cursor)
                var survivor = target
                let earlier = previous[survivor]
                if earlier != none, runs[earlier].shape == runs[survivor].shape {
                    runs[earlier].end = runs[survivor].end
                    unlink(survivor)
                    survivor = earlier
                }
                let later = next[survivor]
                if later != none, runs[later].shape == runs[survivor].shape {
                    runs[survivor].end = runs[later].end
                    unlink(later)
                }
                cursor = next[survivor]
            }
            length += 1
        }
        var merged: [Run] = []
        var cursor = head
        while cursor != none {
            merged.append(runs[cursor])
            cursor = next[cursor]
        }
        return merged
    }

    /// `centiseconds` as Rhubarb writes times: seconds with two decimals ("0.05", "12.30").
    static func secondsText(_ centiseconds: Int) -> String {
        let magnitude = centiseconds.magnitude
        let fraction = magnitude % 100
        return (centiseconds < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// The cues of `runs` with times in centiseconds (frame boundaries rounded to the
    /// nearest 0.01 s). A closure that would round to nothing (under 5 ms, at high frame
    /// rates) is kept one centisecond long at its neighbour's expense.
    static func timed(_ runs: [Run], frameCount: Int, fps: Double, source: String?) -> MouthCueTrack {
        func centiseconds(_ frame: Int) -> Int { Int((Double(frame) * 100 / fps).rounded()) }
        var bounds = runs.map { (centiseconds($0.start), centiseconds($0.end)) }
        for index in bounds.indices where bounds[index].1 <= bounds[index].0 {
            if index + 1 < bounds.count, bounds[index + 1].1 > bounds[index].0 + 1 {
                bounds[index].1 = bounds[index].0 + 1
                bounds[index + 1].0 = bounds[index].1
            } else if index > 0, bounds[index - 1].0 < bounds[index].1 - 1 {
                bounds[index].0 = bounds[index].1 - 1
                bounds[index - 1].1 = bounds[index].0
            }
        }
        let cues = zip(runs, bounds).map { run, bound in
            MouthCue(
                shape: run.shape, startFrame: run.start, endFrame: run.end,
                startCentiseconds: bound.0, endCentiseconds: bound.1)
        }
        return MouthCueTrack(cues: cues, durationCentiseconds: bounds.last?.1 ?? centiseconds(frameCount), source: source)
    }
}
