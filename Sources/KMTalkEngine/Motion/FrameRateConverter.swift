/// Resamples a motion sequence [frames, channels] from one frame rate to another by
/// linear interpolation in time. Frame `i` sits at time `i / fps` in both sequences; the
/// output spans the same time, `(frames - 1) / inFps` seconds, so it has
/// `floor((frames - 1) * outFps / inFps) + 1` frames.
public func resampleFrames(_ motion: Tensor, from inputFps: Double, to outputFps: Double) -> Tensor {
    let frames = motion.shape[0], channels = motion.shape[1]
    if inputFps == outputFps || frames == 0 { return motion }
    let outputFrames = Int((Double(frames - 1) * outputFps / inputFps + 1e-9).rounded(.down)) + 1
    var output = [Float](repeating: 0, count: outputFrames * channels)
    motion.data.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { out in
            for j in 0..<outputFrames {
                let position = min(Double(j) * inputFps / outputFps, Double(frames - 1))
                let lower = Int(position)
                let upper = min(lower + 1, frames - 1)
                let t = Float(position - Double(lower))
                for c in 0..<channels {
                    let a = input[lower * channels + c], b = input[upper * channels + c]
                    out[j * channels + c] = a + (b - a) * t
                }
            }
        }
    }
    return Tensor(shape: [outputFrames, channels], data: output)
}
