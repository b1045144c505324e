import CKMTalk
import Foundation

/// `kmtalk bench --rig RIG`: times posing one minute of 60 fps animation (the model's
/// output on speech-like audio, 3600 frames) on a rig with `kmt_animation_vertices`: all
/// frames in one call, and in chunks of `chunk` frames into a reused buffer (how a player
/// streams), at each thread count (OpenBLAS's, which the posing uses). Reports the best of
/// `repeats` in ms, ms per frame, the output rate in MB/s (posed float32 vertices
/// written) and how much faster than real time (60 s) that is.
struct RigPoseBenchmark {
    /// Frames per second and seconds of the posed animation.
    static let fps = 60.0
    static let seconds = 60.0
    static var frameCount: Int { Int(fps * seconds) }

    let rigPath: String
    let chunk: Int
    let threadCounts: [Int]
    let repeats: Int

    func run(model: ModelHandle, audio: [Float]) throws {
        let loadStart = Date()
        let rig = try RigHandle(path: rigPath)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let session = try SessionHandle(model: model, threads: 1, fps: Self.fps)
        let animation = try session.animate(pcm: audio, sampleRate: model.sampleRate)
        let frames = min(Self.frameCount, animation.frameCount)
        guard frames > 0 else { throw CLIError("the model gave no frames to pose") }
        let floatsPerFrame = rig.vertexCount * 3
        let totalBytes = Double(floatsPerFrame * 4) * Double(frames)
        print("\nrig: \(rigPath)")
        print(String(format: "  %d vertices, %d shapes (%d driven by the model's %d channels), units %@, loaded in %.1f ms",
                     rig.vertexCount, rig.shapeCount, rig.drivenShapes(by: animation), animation.channelCount,
                     rig.metadata("units") ?? "m", loadSeconds * 1000))
        print(String(format: "pose %d frames (%.0f s at %.0f fps) on the rig, absolute positions, %.1f MB out (best of %d):",
                     frames, Double(frames) / Self.fps, Self.fps, totalBytes / 1e6, repeats))

        var whole = [Float](repeating: 0, count: frames * floatsPerFrame)
        var part = [Float](repeating: 0, count: chunk * floatsPerFrame)
        func pose(_ first: Int, _ count: Int, into buffer: inout [Float]) throws {
            let status = kmt_animation_vertices(
                animation.pointer, rig.pointer, first, count, KMT_VERTICES_ABSOLUTE, &buffer, buffer.count, nil)
            guard status == KMT_OK else { throw libraryError(status) }
        }
        for count in threadCounts {
            LoadedBLAS.shared?.setThreads(count)
            let oneCall = try best { try pose(0, frames, into: &whole) }
            let chunked = try best {
                for start in stride(from: 0, to: frames, by: chunk) {
                    try pose(start, min(chunk, frames - start), into: &part)
                }
            }
            let seconds = Double(frames) / Self.fps
            for (label, elapsed) in [("one call", oneCall), ("\(chunk)-frame chunks", chunked)] {
                let padded = label.padding(toLength: max(18, label.count), withPad: " ", startingAt: 0)
                print("  \(count) thread(s), \(padded)" + String(format: "%8.1f ms  %6.3f ms/frame  %7.0f MB/s  %6.0fx real time",
                             elapsed * 1000, elapsed * 1000 / Double(frames), totalBytes / elapsed / 1e6, seconds / elapsed))
            }
        }
        LoadedBLAS.shared?.setThreads(1)
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
}
