/// Converts a motion sequence [frames, channels] from one frame rate to another by linear
/// interpolation in time, incrementally: frame `i` sits at time `i / fps` in both
/// sequences; output frame `j` interpolates native frames `floor(j * in / out)` and the
/// next one, so it is final once that next native frame is (`append`). At the end
/// (`finish`) the output spans the same time, `(frames - 1) / inFps` seconds, so it has
/// `floor((frames - 1) * outFps / inFps) + 1` frames, the last ones clamped to the last
/// native frame. The offline path is `resampleFrames`: append everything, finish.
struct FrameRateConverter {
    let inputFps: Double
    let outputFps: Double
    let channels: Int
    /// Native frames from absolute index `base` on (only those still to be interpolated).
    private(set) var native: [Float] = []
    private var base = 0
    private var nativeCount = 0
    /// Next output frame index.
    private(set) var produced = 0

    init(inputFps: Double, outputFps: Double, channels: Int) {
        self.inputFps = inputFps
        self.outputFps = outputFps
        self.channels = channels
    }

    /// Adds final native frames [n, channels]; returns the output frames that became final
    /// (row-major, `channels` floats each).
    mutating func append(_ motion: Tensor) -> [Float] {
        if inputFps == outputFps {
            produced += motion.shape[0]
            nativeCount += motion.shape[0]
            return motion.data
        }
        native.append(contentsOf: motion.data)
        nativeCount += motion.shape[0]
        var output: [Float] = []
        while true {
            let position = Double(produced) * inputFps / outputFps
            let lower = Int(position)
            guard lower + 1 < nativeCount else { break }
            emit(position: position, lower: lower, upper: lower + 1, into: &output)
        }
        trim()
        return output
    }

    /// Ends the sequence; returns the remaining output frames.
    mutating func finish() -> [Float] {
        guard inputFps != outputFps, nativeCount > 0 else { return [] }
        let total = Int((Double(nativeCount - 1) * outputFps / inputFps + 1e-9).rounded(.down)) + 1
        var output: [Float] = []
        while produced < total {
            let position = min(Double(produced) * inputFps / outputFps, Double(nativeCount - 1))
            let lower = Int(position)
            emit(position: position, lower: lower, upper: min(lower + 1, nativeCount - 1), into: &output)
        }
        trim()
        return output
    }

    private mutating func emit(position: Double, lower: Int, upper: Int, into output: inout [Float]) {
        let t = Float(position - Double(lower))
        let a = (lower - base) * channels, b = (upper - base) * channels
        for c in 0..<channels {
            let x = native[a + c], y = native[b + c]
            output.append(x + (y - x) * t)
        }
        produced += 1
    }

    /// Drops native frames no later output frame interpolates.
    private mutating func trim() {
        let first = min(nativeCount, Int(Double(produced) * inputFps / outputFps))
        if first > base {
            native.removeFirst((first - base) * channels)
            base = first
        }
    }
}

/// Resamples a whole motion sequence [frames, channels] from `inputFps` to `outputFps`
/// (`FrameRateConverter` fed everything at once).
func resampleFrames(_ motion: Tensor, from inputFps: Double, to outputFps: Double) -> Tensor {
    let frames = motion.shape[0], channels = motion.shape[1]
    if inputFps == outputFps || frames == 0 { return motion }
    var converter = FrameRateConverter(inputFps: inputFps, outputFps: outputFps, channels: channels)
    var output = converter.append(motion)
    output.append(contentsOf: converter.finish())
    return Tensor(shape: [output.count / channels, channels], data: output)
}
