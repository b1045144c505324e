import Glibc

/// Measures wall time between named points with the monotonic clock.
struct StageClock {
    private var last = StageClock.now()
    private(set) var stages: [(stage: String, seconds: Double)] = []

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// Records the time since the previous mark under `stage`.
    mutating func mark(_ stage: String) {
        let current = Self.now()
        stages.append((stage, current - last))
        last = current
    }
}
