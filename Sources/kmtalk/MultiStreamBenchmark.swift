import CKMTalk
import Foundation

/// `kmtalk bench --streams N,...`: how many live streams one thread serves in real time,
/// through the C API as a host program would. Every 10 ms tick pushes the next 10 ms of
/// audio into each of N sessions (default latency) and pulls their frames; the tick is on
/// time when all N finish within 10 ms (`--stream-latency` sets the sessions' latency). The
/// sessions get staggered head starts so their frame boundaries (where the network runs)
/// do not all fall on the same tick, as for streams started at random times. Prints the
/// p50 / p99 / max tick time and the share of late ticks per N, and the largest N whose
/// p99 tick fits in 10 ms; `auto` searches for it. With `threads` > 1 the N sessions are
/// dealt round-robin to that many threads, each running its own tick loop at the same
/// time (a server with a thread per core), and the ticks of all threads count.
struct MultiStreamBenchmark {
    static let tickMilliseconds = 10
    /// Seconds of audio each measurement streams.
    let seconds: Double
    let modelPath: String
    /// Latency each session is set to, ms; nil: the default, `.infinity`: exact.
    let latencyMs: Double?
    /// Threads serving the sessions.
    var threads = 1
    /// Whether each tick pushes all of a thread's sessions in one kmt_sessions_push_f32
    /// call (their network layers run together) instead of one kmt_session_push_f32 each.
    var batched = false

    /// One measurement: tick times (ms) with `count` streams.
    struct Result {
        let count: Int
        let p50: Double, p99: Double, max: Double
        let lateShare: Double
        var sustained: Bool { p99 <= Double(MultiStreamBenchmark.tickMilliseconds) }
    }

    func run(counts: [Int], audio: [Float], rate: Int) throws {
        let model = try ModelHandle(path: modelPath)
        let served = threads == 1 ? "one thread" : "\(threads) threads"
        let calls = batched ? "one kmt_sessions_push_f32 per tick" : "one kmt_session_push_f32 per stream and tick"
        print("\nlive streams from \(served) (\(modelPath)), \(Self.tickMilliseconds) ms ticks, \(Int(seconds)) s each, \(latencyText), \(calls):")
        print("  streams | tick compute p50 / p99 / max ms | late ticks | p99 on time")
        var results: [Result] = []
        func report(_ result: Result) {
            print(String(format: "  %7d | %8.3f / %6.3f / %6.3f | %9.1f%% | %@",
                         result.count, result.p50, result.p99, result.max, result.lateShare * 100,
                         result.sustained ? "yes" : "no"))
            results.append(result)
        }
        if counts.isEmpty {
            // auto: double until a p99 tick is late, then bisect.
            var low = 0, high = 0, n = 4
            while high == 0 && n <= 1024 {
                let result = try measure(count: n, model: model, audio: audio, rate: rate)
                report(result)
                if result.sustained { low = n; n *= 2 } else { high = n }
            }
            while high > 0 && high - low > max(1, low / 16) {
                let mid = (low + high) / 2
                let result = try measure(count: mid, model: model, audio: audio, rate: rate)
                report(result)
                if result.sustained { low = mid } else { high = mid }
            }
        } else {
            for n in counts { report(try measure(count: n, model: model, audio: audio, rate: rate)) }
        }
        let best = results.filter(\.sustained).map(\.count).max() ?? 0
        print("  sustained with every tick on time at p99: \(best) stream(s) on \(served)")
    }

    var latencyText: String {
        switch latencyMs {
        case nil: return "default latency"
        case let ms? where ms.isInfinite: return "exact latency (full look-ahead)"
        case let ms?: return String(format: "latency %.0f ms", ms)
        }
    }

    func measure(count: Int, model: ModelHandle, audio: [Float], rate: Int) throws -> Result {
        let chunk = rate * Self.tickMilliseconds / 1000
        let channels = model.channelNames.count
        var params: kmt_session_params = try defaultParams(kmt_session_params_init)
        params.n_threads = 1
        var sessions: [OpaquePointer] = []
        defer { sessions.forEach { kmt_session_free($0) } }
        for _ in 0..<count {
            var session: OpaquePointer?
            let status = kmt_session_create(model.pointer, &params, &session)
            guard status == KMT_OK, let session else { throw libraryError(status) }
            sessions.append(session)
            if let latencyMs {
                let ms = latencyMs.isInfinite ? try libraryValue(0) { kmt_session_exact_latency_ms(session, $0) } : latencyMs
                let set = kmt_session_set_latency_ms(session, ms)
                guard set == KMT_OK else { throw libraryError(set) }
            }
        }
        // Streams that started at random times finish their frames on different ticks: give
        // stream i a head start of (13 i mod 40) ms of audio, pushed before the timing
        // starts (13 is prime to the 10 ms tick and to 20 or 40 ms frames), so its frame
        // boundaries fall at its own phase of the tick. Its audio also starts there.
        let offsets = (0..<count).map { (($0 * 13) % 40) * rate / 1000 }
        for (index, session) in sessions.enumerated() where offsets[index] > 0 {
            let status = audio.withUnsafeBufferPointer {
                kmt_session_push_f32(session, $0.baseAddress, min(offsets[index], audio.count), Int32(rate), 1)
            }
            guard status == KMT_OK else { throw libraryError(status) }
        }
        let ticks = Int(seconds * 1000) / Self.tickMilliseconds
        /// One thread's tick loop over the sessions `indices`: its tick times, ms.
        func serve(_ indices: [Int]) throws -> [Double] {
            var buffer = [Float](repeating: 0, count: channels * 64)
            var block = [Float](repeating: 0, count: chunk)
            var times: [Double] = []
            times.reserveCapacity(ticks)
            var blocks = [[Float]](repeating: [Float](repeating: 0, count: chunk), count: batched ? indices.count : 0)
            let batchSessions: [OpaquePointer?] = indices.map { sessions[$0] }
            let batchFrames = [Int](repeating: chunk, count: indices.count)
            var statuses = [kmt_status](repeating: KMT_OK, count: indices.count)
            for tick in 0..<ticks {
                let start = DispatchTime.now().uptimeNanoseconds
                if batched {
                    // One call pushes every session's next 10 ms; then each is pulled.
                    for (slot, index) in indices.enumerated() {
                        let from = offsets[index] + tick * chunk
                        for j in 0..<chunk { blocks[slot][j] = audio[(from + j) % audio.count] }
                    }
                    let status = withFloatPointers(blocks) { pointers in
                        kmt_sessions_push_f32(batchSessions, indices.count, pointers, batchFrames, Int32(rate), 1, &statuses)
                    }
                    guard status == KMT_OK else { throw libraryError(status) }
                    for index in indices {
                        var frames = 0
                        repeat {
                            let pulled = kmt_session_pull(sessions[index], &buffer, buffer.count, &frames, nil)
                            guard pulled == KMT_OK else { throw libraryError(pulled) }
                        } while frames * channels == buffer.count
                    }
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    continue
                }
                for index in indices {
                    let from = offsets[index] + tick * chunk
                    for j in 0..<chunk { block[j] = audio[(from + j) % audio.count] }
                    var status = kmt_session_push_f32(sessions[index], block, chunk, Int32(rate), 1)
                    guard status == KMT_OK else { throw libraryError(status) }
                    var frames = 0
                    repeat {
                        status = kmt_session_pull(sessions[index], &buffer, buffer.count, &frames, nil)
                        guard status == KMT_OK else { throw libraryError(status) }
                    } while frames * channels == buffer.count
                }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return times
        }
        let shares = (0..<min(threads, count)).map { t in Array(stride(from: t, to: count, by: threads)) }
        let results = ThreadResults(count: shares.count)
        let group = DispatchGroup()
        for (t, share) in shares.enumerated().dropFirst() {
            group.enter()
            let work = UncheckedWork { results.store(t, Swift.Result { try serve(share) }) }
            Thread.detachNewThread {
                work.run()
                group.leave()
            }
        }
        results.store(0, Swift.Result { try serve(shares[0]) })
        group.wait()
        let times = try results.all().flatMap { $0 }
        let sorted = times.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
        let late = times.filter { $0 > Double(Self.tickMilliseconds) }.count
        return Result(count: count, p50: percentile(0.5), p99: percentile(0.99), max: sorted.last ?? 0,
                      lateShare: Double(late) / Double(max(1, times.count)))
    }
}

/// Calls `body` with a pointer to each array's floats, all valid for the call.
private func withFloatPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>?]) -> R) -> R {
    var pointers: [UnsafePointer<Float>?] = []
    pointers.reserveCapacity(arrays.count)
    func next(_ index: Int) -> R {
        guard index < arrays.count else { return body(pointers) }
        return arrays[index].withUnsafeBufferPointer {
            pointers.append($0.baseAddress)
            return next(index + 1)
        }
    }
    return next(0)
}

/// A closure handed to another thread; the caller keeps what it captures alive and
/// unshared until the thread is done (each session is used by one thread only).
private struct UncheckedWork: @unchecked Sendable {
    let run: () -> Void
}

/// Per-thread tick times (or errors), written once per slot.
private final class ThreadResults: @unchecked Sendable {
    private var slots: [Swift.Result<[Double], any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Swift.Result<[Double], any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func all() throws -> [[Double]] {
        lock.lock()
        defer { lock.unlock() }
        return try slots.map { try $0!.get() }
    }
}
