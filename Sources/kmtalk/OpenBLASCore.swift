import CKMTalkHost
import Foundation

/// OpenBLAS picks its kernels from the CPU's model number when it loads. On virtual
/// machines that hide the model (a cloud "Intel Xeon Processor" with AVX-512, for one)
/// Debian's OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels and every matrix
/// product runs at a third of the speed: `kmtalk bench` measured 167x real time there
/// against 368x with the AVX-512 kernels. OpenBLAS reads `OPENBLAS_CORETYPE` only while
/// it loads, and the CLI loads libKMTalk.so (and the OpenBLAS it links) at run time, so
/// before that it names the kernels the CPU's flags allow, as the Python package does. A
/// value the user set is always kept. Other hosts set the variable themselves (README,
/// "Performance").
enum OpenBLASCore {
    /// The kernel family OpenBLAS loaded (`openblas_get_corename`), or nil when the
    /// symbol cannot be found.
    static var loaded: String? {
        // Found through libKMTalk.so, which links OpenBLAS.
        guard let symbol = kmtalk_host_symbol("openblas_get_corename") else { return nil }
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        guard let name = unsafeBitCast(symbol, to: CoreName.self)() else { return nil }
        return String(cString: name)
    }

    /// OpenBLAS's pre-AVX kernel families, the ones it falls back to when it does not
    /// know the CPU.
    static let generic: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
        "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat",
    ]

    /// The `OPENBLAS_CORETYPE` this CPU can run, from its flags: SkylakeX with AVX-512
    /// (F, BW, DQ, VL), Haswell with AVX2 + FMA, else nil.
    static func suitedCoreType(flags: Set<Substring>) -> String? {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy({ flags.contains($0) }) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The CPU flags from /proc/cpuinfo (empty where it cannot be read).
    static func cpuFlags() -> Set<Substring> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " "))
    }

    /// What the bench prints: the loaded kernel, and a hint when it is a generic one on a
    /// CPU that could do better.
    static func describe() -> String {
        let name = loaded ?? "unknown"
        if generic.contains(name.lowercased()), let suited = suitedCoreType(flags: cpuFlags()) {
            return "\(name) (generic: this CPU runs OPENBLAS_CORETYPE=\(suited), about 2x faster)"
        }
        let environment = ProcessInfo.processInfo.environment
        guard let forced = environment["OPENBLAS_CORETYPE"] else { return name }
        let who = environment[chosenMarker] == "1" ? " (chosen by kmtalk from the CPU flags)" : ""
        return "\(name), OPENBLAS_CORETYPE=\(forced)\(who)"
    }

    /// Sets `OPENBLAS_CORETYPE` from the CPU's flags (SkylakeX or Haswell) unless the user
    /// set it or `KMTALK_OPENBLAS_AUTO=0`; call before the library loads.
    static func chooseKernelsBeforeLoading() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["KMTALK_OPENBLAS_AUTO"] != "0",
            let suited = suitedCoreType(flags: cpuFlags())
        else { return }
        setenv("OPENBLAS_CORETYPE", suited, 1)
        setenv(chosenMarker, "1", 1)
    }

    /// Set next to `OPENBLAS_CORETYPE` when the CLI chose it, so the bench can say so.
    static let chosenMarker = "KMTALK_OPENBLAS_CHOSEN"
}
