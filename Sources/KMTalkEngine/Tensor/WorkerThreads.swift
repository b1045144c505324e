import Glibc

/// The library's own fork-join parallelism: how many threads a call may compute on
/// (`n_threads`, per calling thread) and a loop that splits independent work over them.
///
/// A session sets the count on the thread that calls it (`use`), so sessions on different
/// threads never see each other's setting. Work is split by rows of the sequence (the
/// transformer layers, the front-end): each part writes its own rows, so the results do
/// not depend on timing; they may differ from one thread count to another in the last bit
/// only where a matrix product's kernel depends on how many rows it gets.
enum WorkerThreads {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Threads the current call may use (at least 1).
    static var count: Int { max(1, Int(bitPattern: pthread_getspecific(key))) }

    /// Sets the count for calls made on this thread (`<= 1`: the calling thread only).
    static func use(_ count: Int) {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: max(1, min(count, 64))))
    }

    /// How many parts to split `items` independent items into, given that a part should
    /// have at least `minimumPerPart` of them to be worth a thread.
    static func parts(for items: Int, minimumPerPart: Int) -> Int {
        max(1, min(count, items / max(1, minimumPerPart)))
    }

    /// Calls `body(part)` for every `part` in `0..<parts`, part 0 on the calling thread and
    /// the others on threads started for the call; returns when all have finished. A
    /// thread that cannot be started runs its part on the calling thread instead.
    static func forEach(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1 else {
            if parts == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var started: [pthread_t] = []
            var inline: [Int] = []
            for part in 1..<parts {
                let job = Unmanaged.passRetained(Job(body: body, part: part)).toOpaque()
                var thread = pthread_t()
                let status = pthread_create(&thread, nil, { raw in
                    let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                    job.body(job.part)
                    return nil
                }, job)
                if status == 0 {
                    started.append(thread)
                } else {
                    Unmanaged<Job>.fromOpaque(job).release()
                    inline.append(part)
                }
            }
            body(0)
            for part in inline { body(part) }
            for thread in started { pthread_join(thread, nil) }
        }
    }

    /// Splits `0..<count` into at most `parts` contiguous ranges of near-equal size whose
    /// boundaries are multiples of `alignment` (so blocked kernels, such as attention's
    /// 64-query blocks, see the same blocks as in one piece).
    static func ranges(_ count: Int, parts: Int, alignment: Int = 1) -> [Range<Int>] {
        let unit = max(1, alignment)
        let units = (count + unit - 1) / unit
        let parts = max(1, min(parts, units))
        return (0..<parts).map { part in
            min(count, units * part / parts * unit)..<min(count, units * (part + 1) / parts * unit)
        }
    }

    /// `transform` of each of `ranges`, computed in parallel (one part per range), in order.
    static func map<T>(_ ranges: [Range<Int>], _ transform: (Range<Int>) -> T) -> [T] {
        if ranges.count == 1 { return [transform(ranges[0])] }  // streaming's case: no slots
        var results = [T?](repeating: nil, count: ranges.count)
        results.withUnsafeMutableBufferPointer { slots in
            forEach(parts: ranges.count) { part in slots[part] = transform(ranges[part]) }
        }
        return results.map { $0! }
    }

    /// Rows `[count, width]` computed by `rows(range)` for row ranges in parallel (at least
    /// `minimumPerPart` rows per part, boundaries on multiples of `alignment`) and stacked.
    static func rows(
        _ count: Int, width: Int, minimumPerPart: Int, alignment: Int = 64, _ rows: (Range<Int>) -> Tensor
    ) -> Tensor {
        let parts = parts(for: count, minimumPerPart: minimumPerPart)
        guard parts > 1 else { return rows(0..<count) }
        let pieces = map(ranges(count, parts: parts, alignment: alignment), rows)
        var data: [Float] = []
        data.reserveCapacity(count * width)
        for piece in pieces { data.append(contentsOf: piece.data) }
        return Tensor(shape: [count, width], data: data)
    }

    private final class Job {
        let body: (Int) -> Void
        let part: Int
        init(body: @escaping (Int) -> Void, part: Int) {
            self.body = body
            self.part = part
        }
    }
}
