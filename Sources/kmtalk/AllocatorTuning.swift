import CKMTalkHost
import Foundation

/// glibc's malloc gives large blocks (over 128 KiB at first) their own mmap and returns
/// freed memory at the heap's top to the kernel, so each offline call's intermediates
/// (the layers' activations, keys and values: about 13 MiB for 60 s of audio) come back as
/// fresh pages the kernel must fault in and zero, about 3,250 faults per call. The CLI is
/// the host, so it keeps those pages: large blocks stay in the heap and up to 128 MiB of
/// free memory is kept, which removes the faults (`kmtalk bench` prints them) without
/// raising the peak. The library itself never changes its host's allocator; README,
/// "Performance", says how a host can do the same. Skipped when the user set any of
/// glibc's MALLOC_* tunables, or with `KMTALK_MALLOC_TUNING=0`.
enum AllocatorTuning {
    /// Blocks up to this size come from the heap instead of their own mmap.
    static let mmapThreshold: Int32 = 64 << 20
    /// Free memory at the heap's top kept rather than returned to the kernel.
    static let trimThreshold: Int32 = 128 << 20
    /// Extra memory requested with each heap growth.
    static let topPad: Int32 = 16 << 20

    /// Applies the settings (before any large allocation); returns whether it did.
    @discardableResult
    static func apply() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["KMTALK_MALLOC_TUNING"] != "0",
            !environment.keys.contains(where: { $0.hasPrefix("MALLOC_") }),
            environment["GLIBC_TUNABLES"]?.contains("glibc.malloc") != true
        else { return false }
        return kmtalk_host_keep_freed_memory(mmapThreshold, trimThreshold, topPad) == 1
    }
}
