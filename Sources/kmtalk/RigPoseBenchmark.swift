import Foundation
import KMTalkEngine

/// `kmtalk bench --rig RIG`: times posing one minute of 60 fps animation (3600 frames of
/// the model's output on speech-like audio) on a rig with `VertexSolver`, the code behind
/// `kmt_animation_vertices`: all frames in one call, and in chunks of `chunk` frames into
/// a reused buffer (how a player streams), at each thread count. Reports the best of
/// `repeats` in ms, ms per frame, the output rate in MB/s (posed float32 vertices written)
/// and how much faster than real time (60 s) that is.
struct RigPoseBenchmark {
    /// Frames per second and seconds of the posed animation.
    static let fps = 60.0
    static let seconds = 60.0
    static var frameCount: Int { Int(fps * seconds) }

    let rigPath: String
    let chunk: Int
    let threadCounts: [Int]
    let repeats: Int

    func run(model: KMTalkModel, audio: [Float]) throws {
        let loadStart = Date()
        let rig = try Rig(path: rigPath)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let animation = try Self.minute(model: model, audio: audio)
        let solver = VertexSolver(rig: rig, channelNames: animation.channelNames)
        let driven = solver.mapping.drivers.compactMap { $0 }.count
        let frameBytes = Double(solver.floatsPerFrame * 4)
        let totalBytes = frameBytes * Double(animation.frameCount)
        print("\nrig: \(rigPath)")
        print(String(format: "  %d vertices, %d shapes (%d driven by the model's %d channels), units %@, loaded in %.1f ms",
                     rig.vertexCount, rig.shapeCount, driven, animation.channelCount, rig.units.rawValue, loadSeconds * 1000))
        print(String(format: "pose %d frames (%.0f s at %.0f fps) on the rig, absolute positions, %.1f MB out (best of %d):",
                     animation.frameCount, Self.seconds, Self.fps, totalBytes / 1e6, repeats))

        var whole = [Float](repeating: 0, count: animation.frameCount * solver.floatsPerFrame)
        var part = [Float](repeating: 0, count: chunk * solver.floatsPerFrame)
        for count in threadCounts {
            BLAS.setThreads(count)
            let oneCall = try best {
                try whole.withUnsafeMutableBufferPointer {
                    try solver.vertices(of: animation, frames: 0..<animation.frameCount, mode: .absolute, into: $0)
                }
            }
            let chunked = try best {
                for start in stride(from: 0, to: animation.frameCount, by: chunk) {
                    let end = min(start + chunk, animation.frameCount)
                    try part.withUnsafeMutableBufferPointer {
                        try solver.vertices(of: animation, frames: start..<end, mode: .absolute, into: $0)
                    }
                }
            }
            for (label, seconds) in [("one call", oneCall), ("\(chunk)-frame chunks", chunked)] {
                let padded = label.padding(toLength: max(18, label.count), withPad: " ", startingAt: 0)
                print("  \(count) thread(s), \(padded)" + String(format: "%8.1f ms  %6.3f ms/frame  %7.0f MB/s  %6.0fx real time",
                             seconds * 1000, seconds * 1000 / Double(animation.frameCount),
                             totalBytes / seconds / 1e6, Self.seconds / seconds))
            }
        }
    }

    /// The best wall time of `repeats` runs of `body`, after one warm-up run (page faults,
    /// thread start-up).
    private func best(_ body: () throws -> Void) rethrows -> Double {
        try body()
        var fastest = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = Date()
            try body()
            fastest = min(fastest, Date().timeIntervalSince(start))
        }
        return fastest
    }

    /// Exactly `frameCount` frames of the model's output at 60 fps for `audio` (repeated
    /// when the audio is shorter than a minute).
    static func minute(model: KMTalkModel, audio: [Float]) throws -> Animation {
        let session = Session(model: model, options: SessionOptions(outputFps: fps))
        let animated = try audio.withUnsafeBufferPointer {
            try session.animate(pcm: $0.baseAddress!, frameCount: audio.count, sampleRate: model.config.frontend.sampleRate, channels: 1)
        }
        let width = animated.channelCount
        guard animated.frameCount > 0 else { throw CLIError("the model gave no frames to pose") }
        var values = [Float](repeating: 0, count: frameCount * width)
        for frame in 0..<frameCount {
            let source = (frame % animated.frameCount) * width
            for channel in 0..<width { values[frame * width + channel] = animated.values.data[source + channel] }
        }
        return Animation(values: Tensor(shape: [frameCount, width], data: values), fps: fps, channelNames: animated.channelNames)
    }
}
