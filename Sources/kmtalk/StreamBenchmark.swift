import Foundation
import KMTalkEngine

/// `kmtalk bench --stream`: streams speech-like audio in 10 ms chunks at one OpenBLAS
/// thread, timing each push + pull; reports p50 / p99 / max compute time per chunk, the
/// session's latency, and the largest difference from the offline result on the same
/// audio.
struct StreamBenchmark {
    let chunkMilliseconds = 10

    func run(model: KMTalkModel, audio: [Float]) throws {
        let rate = model.config.frontend.sampleRate
        let chunk = rate * chunkMilliseconds / 1000
        let options = SessionOptions(threads: 1)
        let session = try StreamingSession(model: model, options: options)
        var times: [Double] = []
        var frames: [Float] = []
        var offset = 0
        while offset < audio.count {
            let count = min(chunk, audio.count - offset)
            let start = DispatchTime.now().uptimeNanoseconds
            try audio.withUnsafeBufferPointer {
                try session.push($0.baseAddress! + offset, frameCount: count, sampleRate: rate, channels: 1)
            }
            let pulled = session.pullAll()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            frames += pulled.data
            offset += count
        }
        try session.flush()
        frames += session.pullAll().data
        let offline = try audio.withUnsafeBufferPointer {
            try Session(model: model, options: options).animate(pcm: $0.baseAddress!, frameCount: audio.count, sampleRate: rate, channels: 1)
        }
        var worst: Float = frames.count == offline.values.data.count ? 0 : .infinity
        if worst == 0 { for (a, b) in zip(frames, offline.values.data) { worst = max(worst, abs(a - b)) } }
        let sorted = times.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
        print(String(format: "\nstream %.0f s in %d ms chunks at 1 thread (%d chunks):", Double(audio.count) / Double(rate), chunkMilliseconds, times.count))
        print(String(format: "  compute per chunk: p50 %.3f ms, p99 %.3f ms, max %.3f ms", percentile(0.5), percentile(0.99), sorted.last ?? 0))
        print(String(format: "  latency %.0f ms (the model's look-ahead; the only setting in this version)", session.latencyMs))
        print(String(format: "  max abs difference from offline: %.2g over %d frames", Double(worst), frames.count / session.channelCount))
    }
}
