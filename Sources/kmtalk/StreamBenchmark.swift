import CKMTalk
import Foundation

/// `kmtalk bench --stream`: streams speech-like audio in 10 ms chunks through the C API at
/// one thread, timing each push + pull, at the full look-ahead (exact) and at lower latency
/// settings; reports p50 / p99 / max compute time per chunk and the largest and mean
/// difference from the offline result (`kmt_animate_pcm`) on the same audio (quality
/// versus latency).
struct StreamBenchmark {
    let chunkMilliseconds = 10

    func run(path: String, audio: [Float], rate: Int) throws {
        let model = try ModelHandle(path: path)
        let offline = try audio.withUnsafeBufferPointer { samples -> AnimationResult in
            let session = try Self.session(model)
            defer { kmt_session_free(session) }
            var animation: OpaquePointer?
            let status = kmt_animate_pcm(session, samples.baseAddress, samples.count, Int32(rate), 1, &animation)
            guard status == KMT_OK, let animation else { throw libraryError(status) }
            defer { kmt_animation_free(animation) }
            return try AnimationResult(animation)
        }
        guard let (full, latency) = try model.streamingLatencies() else {
            throw CLIError("\(path): this model cannot stream (full attention)")
        }
        print("\nstream model: \(path)")
        print(String(format: "stream %.0f s in %d ms chunks at 1 thread; full look-ahead %.0f ms (exact), default latency %.0f ms:",
                     Double(audio.count) / Double(rate), chunkMilliseconds, full, latency))
        print("  latency ms | compute per chunk p50 / p99 / max ms | mean ms (streams per core) | max abs diff vs offline | mean abs diff")
        for latency in [full, 200, 150, 100, 60] where latency <= full {
            try measure(model: model, audio: audio, rate: rate, offline: offline, latency: latency)
        }
    }

    /// A one-thread session on `model` (the caller frees it).
    private static func session(_ model: ModelHandle) throws -> OpaquePointer {
        var params: kmt_session_params = try defaultParams(kmt_session_params_init)
        params.n_threads = 1
        var session: OpaquePointer?
        let status = kmt_session_create(model.pointer, &params, &session)
        guard status == KMT_OK, let session else { throw libraryError(status) }
        return session
    }

    private func measure(model: ModelHandle, audio: [Float], rate: Int, offline: AnimationResult, latency: Double) throws {
        let chunk = rate * chunkMilliseconds / 1000
        let session = try Self.session(model)
        defer { kmt_session_free(session) }
        var status = kmt_session_set_latency_ms(session, latency)
        guard status == KMT_OK else { throw libraryError(status) }
        let channels = offline.channels.count
        var buffer = [Float](repeating: 0, count: channels * 64)
        var times: [Double] = []
        var frames: [Float] = []
        frames.reserveCapacity(offline.values.count)
        func pullAll() throws {
            var pulled = 0
            repeat {
                status = kmt_session_pull(session, &buffer, buffer.count, &pulled, nil)
                guard status == KMT_OK else { throw libraryError(status) }
                frames += buffer[0..<(pulled * channels)]
            } while pulled * channels == buffer.count
        }
        var offset = 0
        while offset < audio.count {
            let count = min(chunk, audio.count - offset)
            let start = DispatchTime.now().uptimeNanoseconds
            status = audio.withUnsafeBufferPointer { kmt_session_push_f32(session, $0.baseAddress! + offset, count, Int32(rate), 1) }
            guard status == KMT_OK else { throw libraryError(status) }
            try pullAll()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            offset += count
        }
        status = kmt_session_flush(session)
        guard status == KMT_OK else { throw libraryError(status) }
        try pullAll()
        var worst: Float = frames.count == offline.values.count ? 0 : .infinity
        var sum: Float = 0
        if worst == 0 {
            for (a, b) in zip(frames, offline.values) {
                worst = max(worst, abs(a - b))
                sum += abs(a - b)
            }
        }
        let sorted = times.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
        let mean = times.reduce(0, +) / Double(max(1, times.count))
        print(String(format: "  %10.0f | %10.3f / %6.3f / %6.3f | %9.3f (%5.0f) | %23.2g | %.2g",
                     try libraryValue(0) { kmt_session_latency_ms(session, $0) }, percentile(0.5), percentile(0.99), sorted.last ?? 0, mean,
                     Double(chunkMilliseconds) / max(mean, 1e-9), Double(worst), Double(sum / Float(max(1, frames.count)))))
    }
}
