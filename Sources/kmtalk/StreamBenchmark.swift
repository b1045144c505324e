import Foundation
import KMTalkEngine

/// `kmtalk bench --stream`: streams speech-like audio in 10 ms chunks at one OpenBLAS
/// thread, timing each push + pull, at the full look-ahead (exact) and at lower latency
/// settings; reports p50 / p99 / max compute time per chunk and the largest and mean
/// difference from the offline result on the same audio (quality versus latency).
struct StreamBenchmark {
    let chunkMilliseconds = 10

    func run(model: KMTalkModel, path: String, audio: [Float]) throws {
        let rate = model.config.frontend.sampleRate
        let options = SessionOptions(threads: 1)
        let offline = try audio.withUnsafeBufferPointer {
            try Session(model: model, options: options).animate(pcm: $0.baseAddress!, frameCount: audio.count, sampleRate: rate, channels: 1)
        }
        let fresh = try StreamingSession(model: model, options: options)
        let full = fresh.fullLatencyMs
        print("\nstream model: \(path)")
        print(String(format: "stream %.0f s in %d ms chunks at 1 thread; full look-ahead %.0f ms (exact), default latency %.0f ms:",
                     Double(audio.count) / Double(rate), chunkMilliseconds, full, fresh.latencyMs))
        print("  latency ms | compute per chunk p50 / p99 / max ms | mean ms (streams per core) | max abs diff vs offline | mean abs diff")
        for latency in [full, 200, 150, 100, 60] where latency <= full {
            try measure(model: model, audio: audio, offline: offline.values, latency: latency)
        }
    }

    private func measure(model: KMTalkModel, audio: [Float], offline: Tensor, latency: Double) throws {
        let rate = model.config.frontend.sampleRate
        let chunk = rate * chunkMilliseconds / 1000
        let session = try StreamingSession(model: model, options: SessionOptions(threads: 1))
        try session.setLatency(ms: latency)
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
        var worst: Float = frames.count == offline.data.count ? 0 : .infinity
        var sum: Float = 0
        if worst == 0 {
            for (a, b) in zip(frames, offline.data) {
                worst = max(worst, abs(a - b))
                sum += abs(a - b)
            }
        }
        let sorted = times.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
        let mean = times.reduce(0, +) / Double(max(1, times.count))
        print(String(format: "  %10.0f | %10.3f / %6.3f / %6.3f | %9.3f (%5.0f) | %23.2g | %.2g",
                     session.latencyMs, percentile(0.5), percentile(0.99), sorted.last ?? 0, mean,
                     Double(chunkMilliseconds) / max(mean, 1e-9), Double(worst), Double(sum / Float(max(1, frames.count)))))
    }
}
