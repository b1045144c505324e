import ArgumentParser
import CKMTalk
import CKMTalkHost
import Foundation

/// `kmtalk bench`: sgemm throughput, model load time, real-time factor, peak memory, and
/// with `--rig` the cost of posing a minute of 60 fps animation on a rig.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure sgemm GFLOP/s, model load time, real-time factor by stage and peak memory; with --rig, posing on a rig.")

    @Option(help: "Model file (default: $KMTALK_MODEL or the shipped model).")
    var model: String?

    @Option(help: "Seconds of synthetic speech-like audio to animate.")
    var seconds: Double = 60

    @Option(help: "Comma-separated thread counts (n_threads) to measure offline animation and sgemm at.")
    var threads: String = "1,2"

    @Option(help: "Comma-separated square sgemm sizes (0 skips the sgemm benchmark).")
    var sgemmSizes: String = "256,512,1024"

    @Option(help: "Repetitions of each animation measurement (the best is reported).")
    var repeats: Int = 3

    @Option(help: "Rig file: also time posing 1 minute of 60 fps animation (3600 frames) on it, in one call and in chunks.")
    var rig: String?

    @Option(help: "Frames per call for the chunked rig posing.")
    var rigChunk: Int = 60

    @Flag(help: "Also stream the audio in 10 ms chunks at 1 thread: compute time per chunk (p50/p99/max), latency, difference from offline.")
    var stream = false

    @Option(help: "Comma-separated counts of live streams to serve from one thread (10 ms ticks through the C API), or 'auto' to search for the most with every tick on time at p99.")
    var streams: String?

    @Option(help: "Latency of the --streams sessions in ms, or 'exact' (default: the library's default).")
    var streamLatency: String?

    @Option(help: "Seconds of audio each --streams measurement streams.")
    var streamSeconds: Double = 20

    @Option(help: "Threads serving the --streams sessions, each with its own 10 ms tick loop over its share of them (counts and 'auto' are totals over all threads).")
    var streamThreads: Int = 1

    @Flag(help: "Push all of a thread's --streams sessions in one kmt_sessions_push_f32 call per tick (their network layers run together) instead of one kmt_session_push_f32 per stream.")
    var streamBatch = false

    @Option(help: "Model to stream with --stream (default: the benchmarked model).")
    var streamModel: String?

    func validate() throws {
        guard streamThreads >= 1, streamThreads <= 64 else { throw ValidationError("--stream-threads must be in [1, 64]") }
    }

    func run() throws {
        let threadCounts = threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let sizes = sgemmSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !threadCounts.isEmpty, threadCounts.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--threads needs counts like 1,2") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        let streamCounts = try parsedStreamCounts()
        guard streamSeconds >= 1, streamSeconds <= 600 else { throw ValidationError("--stream-seconds must be in [1, 600]") }
        guard (1...RigPoseBenchmark.frameCount).contains(rigChunk) else {
            throw ValidationError("--rig-chunk must be in 1...\(RigPoseBenchmark.frameCount)")
        }
        print("kmtalk bench: \(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(cpuModel())")
        print("OpenBLAS kernels: \(OpenBLASCore.describe())")

        if !sizes.isEmpty {
            print("\nsgemm (row-major, C = A B, float32):")
            print("  size " + threadCounts.map { "  \($0) thr GFLOP/s" }.joined())
            for size in sizes {
                var line = String(format: "  %4d ", size)
                for count in threadCounts {
                    line += String(format: "  %14.1f", sgemmGflops(size: size, threads: count))
                }
                print(line)
            }
        }

        let modelPath = try ModelLocator.resolve(model)
        var loadTimes: [Double] = []
        var loaded: ModelHandle?
        for _ in 0..<5 {
            let start = Date()
            loaded = try ModelHandle(path: modelPath)
            loadTimes.append(Date().timeIntervalSince(start))
        }
        let model = loaded!
        print("\nmodel: \(modelPath)")
        print(String(format: "  architecture %@, %llu parameters, load %.1f ms (median of 5)",
                     model.architecture, model.parameterCount, loadTimes.sorted()[2] * 1000))

        let rate = Int(model.sampleRate)
        let samples = speechLikeSignal(seconds: seconds, rate: rate)
        print(String(format: "\nanimate %.0f s of 16 kHz audio (best of %d):", seconds, repeats))
        var last: AnimationHandle?
        for count in threadCounts {
            let session = try SessionHandle(model: model, threads: count, fps: nil)
            var best = Double.infinity
            var bestStages: [(stage: String, seconds: Double)] = []
            var frames = 0
            var faults: [Int] = []
            for _ in 0..<max(1, repeats) {
                let faultsBefore = minorPageFaults()
                let start = Date()
                let animation = try session.animate(pcm: samples, sampleRate: Int32(rate))
                let elapsed = Date().timeIntervalSince(start)
                faults.append(minorPageFaults() - faultsBefore)
                frames = animation.frameCount
                last = animation
                if elapsed < best {
                    best = elapsed
                    bestStages = try session.stageTimes()
                }
            }
            let stages = bestStages.map { String(format: "%@ %.1f ms", $0.stage, $0.seconds * 1000) }.joined(separator: ", ")
            print(String(format: "  %d thread(s): %.3f s, real-time factor %.5f (%.0fx faster than real time), %d frames", count, best, best / seconds, seconds / best, frames))
            print("      stages: \(stages)")
            // Fresh pages the call touched (the kernel zeroes each): what allocation costs.
            let medianFaults = faults.sorted()[faults.count / 2]
            print(String(format: "      page faults per call: %d (median), %.1f MiB of fresh pages", medianFaults,
                         Double(medianFaults) * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576))
        }
        if let last {
            // The text writers against the binary one (issue 14: they were 1,000x slower).
            var line = "\nencode the animation (\(last.frameCount) frames x \(last.channelCount) channels, in memory):"
            let formats: [(String, kmt_export_format)] = [
                ("json", KMT_EXPORT_JSON), ("csv", KMT_EXPORT_CSV), ("livelink", KMT_EXPORT_LIVE_LINK_CSV),
                ("npy", KMT_EXPORT_NPY), ("cues", KMT_EXPORT_MOUTH_CUES_TSV),
            ]
            for (name, format) in formats {
                let start = Date()
                let bytes = try last.encoded(rig: nil, format: format)
                line += "\n  " + name.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + String(format: "%7.3f s, %6.1f MiB", Date().timeIntervalSince(start), Double(bytes.count) / 1_048_576)
            }
            print(line)
        }
        if stream {
            let streamPath = try ModelLocator.resolve(streamModel ?? self.model)
            try StreamBenchmark().run(path: streamPath, audio: samples, rate: rate)
        }
        if let streamCounts {
            let streamPath = try ModelLocator.resolve(streamModel ?? self.model)
            try MultiStreamBenchmark(seconds: streamSeconds, modelPath: streamPath, latencyMs: parsedStreamLatency(), threads: streamThreads, batched: streamBatch)
                .run(counts: streamCounts, audio: samples, rate: rate)
        }
        if let rig {
            let minute = seconds >= RigPoseBenchmark.seconds ? samples : speechLikeSignal(seconds: RigPoseBenchmark.seconds, rate: rate)
            try RigPoseBenchmark(rigPath: rig, chunk: rigChunk, threadCounts: threadCounts, repeats: repeats)
                .run(model: model, audio: minute)
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        print(String(format: "\npeak resident memory: %.1f MiB", Double(usage.ru_maxrss) / 1024))
    }

    /// `--stream-latency`: nil for the default, infinity for `exact`, else milliseconds > 0.
    func parsedStreamLatency() throws -> Double? {
        guard let streamLatency else { return nil }
        if streamLatency.lowercased() == "exact" { return .infinity }
        guard let ms = Double(streamLatency), ms > 0, ms.isFinite else {
            throw ValidationError("--stream-latency needs milliseconds > 0 or 'exact'")
        }
        return ms
    }

    /// `--streams`: nil when not given, [] for `auto`, else the counts (each 1...1024).
    func parsedStreamCounts() throws -> [Int]? {
        guard let streams else { return nil }
        if streams.trimmingCharacters(in: .whitespaces).lowercased() == "auto" { return [] }
        let counts = streams.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 != nil && (1...1024).contains($0!) }) else {
            throw ValidationError("--streams needs counts in 1...1024 like 8,16,32, or auto")
        }
        return counts.map { $0! }
    }

    /// GFLOP/s of an n x n x n sgemm at `threads` threads, timed over at least 0.3 s, with
    /// the BLAS the library loaded (`LoadedBLAS`); 0 when it cannot be reached.
    func sgemmGflops(size n: Int, threads: Int) -> Double {
        guard let blas = LoadedBLAS.shared else { return 0 }
        blas.setThreads(threads)
        let a = (0..<(n * n)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
        let b = (0..<(n * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
        var c = [Float](repeating: 0, count: n * n)
        func once() { blas.multiply(n: n, a: a, b: b, c: &c) }
        once()
        var repetitions = 0
        let start = Date()
        repeat {
            once()
            repetitions += 1
        } while Date().timeIntervalSince(start) < 0.3
        let elapsed = Date().timeIntervalSince(start)
        return 2 * Double(n) * Double(n) * Double(n) * Double(repetitions) / elapsed / 1e9
    }

    /// Deterministic speech-like audio: a glottal-pulse-ish harmonic source with a
    /// wandering pitch, noise bursts, and syllable-rate amplitude modulation with pauses.
    func speechLikeSignal(seconds: Double, rate: Int) -> [Float] {
        let count = Int(seconds * Double(rate))
        var samples = [Float](repeating: 0, count: count)
        var phase = 0.0
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for n in 0..<count {
            let t = Double(n) / Double(rate)
            let pitch = 120 + 30 * sin(2 * Double.pi * 0.7 * t)
            phase += 2 * Double.pi * pitch / Double(rate)
            var voiced = 0.0
            for harmonic in 1...8 { voiced += sin(Double(harmonic) * phase) / Double(harmonic) }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Double(Int64(bitPattern: state >> 11) % 2000) / 2000
            let syllable = max(0, sin(2 * Double.pi * 4 * t))
            let pause = sin(2 * Double.pi * 0.25 * t) > -0.7 ? 1.0 : 0.0
            samples[n] = Float(0.3 * pause * syllable * (0.8 * voiced / 2 + 0.2 * noise))
        }
        return samples
    }

    func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
        else { return "unknown CPU" }
        return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    }
}

/// Minor page faults of this process so far (`getrusage`).
func minorPageFaults() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_minflt
}
