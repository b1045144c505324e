import Glibc
import Testing

@testable import KMTalkEngine

/// The library's row-split parallelism (`n_threads > 1`): the parts run on distinct
/// threads, the split covers every row once on aligned boundaries, the count is per
/// calling thread, and a session's results do not depend on its thread count.
@Suite struct WorkerThreadsTests {
    @Test func partsRunOnDistinctThreadsAndAllFinish() {
        var threads = [pthread_t](repeating: 0, count: 4)
        var done = [Bool](repeating: false, count: 4)
        threads.withUnsafeMutableBufferPointer { ids in
            done.withUnsafeMutableBufferPointer { flags in
                WorkerThreads.forEach(parts: 4) { part in
                    ids[part] = pthread_self()
                    flags[part] = true
                }
            }
        }
        #expect(done.allSatisfy { $0 })
        #expect(threads[0] == pthread_self(), "part 0 runs on the calling thread")
        #expect(Set(threads).count == 4)
    }

    @Test(arguments: [(0, 2, 64), (1, 2, 64), (100, 3, 1), (1_000, 2, 64), (1_001, 3, 64), (130, 4, 64), (3_001, 2, 4)])
    func rangesCoverEveryRowOnceOnAlignedBoundaries(count: Int, parts: Int, alignment: Int) {
        let ranges = WorkerThreads.ranges(count, parts: parts, alignment: alignment)
        #expect(ranges.count <= parts && !ranges.isEmpty)
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count)
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        for range in ranges.dropFirst() { #expect(range.lowerBound % alignment == 0) }
        #expect(ranges.allSatisfy { !$0.isEmpty } || count == 0)
    }

    @Test func theCountBelongsToTheCallingThread() {
        WorkerThreads.use(3)
        defer { WorkerThreads.use(1) }
        var seen = 0
        withUnsafeMutablePointer(to: &seen) { pointer in
            WorkerThreads.forEach(parts: 2) { part in
                if part == 1 { pointer.pointee = WorkerThreads.count }
            }
        }
        #expect(WorkerThreads.count == 3)
        #expect(seen == 1, "a started thread does not inherit the caller's count")
        #expect(WorkerThreads.parts(for: 1_000, minimumPerPart: 128) == 3)
        #expect(WorkerThreads.parts(for: 200, minimumPerPart: 128) == 1)
    }

    /// Speech-like audio gives the same animation with 1, 2 and 3 threads: 40 s (2,000
    /// frames: every transformer layer, conv and the front-end split) through the
    /// whole-utterance path, and audio over `boundedOfflineSeconds` through the stream,
    /// gathered into pushes of `threadedPushSamples` with threads.
    @Test(arguments: [("kmtalk-tiny.safetensors", 40.0), ("kmtalk-nokeys.safetensors", 40.0), ("kmtalk-tiny.safetensors", Session.boundedOfflineSeconds + 12)])
    func resultsDoNotDependOnTheThreadCount(name: String, seconds: Double) throws {
        let model = try KMTalkModel(path: Fixtures.path(name))
        let pcm = BoundedOfflineTests.signal(seconds: seconds, rate: 16_000)
        func animate(threads: Int) throws -> Animation {
            try pcm.withUnsafeBufferPointer {
                try Session(model: model, options: SessionOptions(threads: threads))
                    .animate(pcm: $0.baseAddress!, frameCount: $0.count, sampleRate: 16_000, channels: 1)
            }
        }
        let one = try animate(threads: 1)
        for threads in [2, 3] {
            let many = try animate(threads: threads)
            #expect(many.frameCount == one.frameCount)
            let difference = zip(many.values.data, one.values.data).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 1e-6, "\(threads) threads differ by \(difference)")
        }
    }
}
