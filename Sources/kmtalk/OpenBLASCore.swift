import Foundation

/// OpenBLAS picks its kernels from the CPU's model number when it loads. On virtual
/// machines that hide the model (a cloud "Intel Xeon Processor" with AVX-512, for one)
/// Debian's OpenBLAS 0.3.21 falls back to its SSE3 "Prescott" kernels and every matrix
/// product runs at a third of the speed: `kmtalk bench` measured 167x real time there
/// against 368x with the AVX-512 kernels. OpenBLAS reads `OPENBLAS_CORETYPE` only while
/// it loads, so the CLI checks before doing any work and, when OpenBLAS chose a generic
/// kernel on a CPU that has AVX2 + FMA, runs itself again with the variable set. A value
/// the user set is always kept. Library hosts set the variable themselves (README,
/// "Performance"); the Python package does it before loading the library.
enum OpenBLASCore {
    /// The kernel family OpenBLAS loaded (`openblas_get_corename`), or nil when the
    /// symbol cannot be found.
    static var loaded: String? {
        // The executable's handle searches every library loaded with it.
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "openblas_get_corename") else {
            return nil
        }
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

    /// Runs the CLI again with `OPENBLAS_CORETYPE` set when OpenBLAS loaded a generic
    /// kernel on a CPU with AVX2 + FMA and the user set nothing (`KMTALK_OPENBLAS_AUTO=0`
    /// turns this off). Returns when nothing needs to change or the exec fails.
    static func reexecWithSuitedKernelIfNeeded() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["KMTALK_OPENBLAS_AUTO"] != "0",
            let name = loaded, generic.contains(name.lowercased()),
            let suited = suitedCoreType(flags: cpuFlags())
        else { return }
        setenv("OPENBLAS_CORETYPE", suited, 1)
        setenv(chosenMarker, "1", 1)
        var arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &arguments)
        // Not reached unless the exec failed: carry on with the generic kernels.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(chosenMarker)
    }

    /// Set next to `OPENBLAS_CORETYPE` when the CLI chose it, so the bench can say so.
    static let chosenMarker = "KMTALK_OPENBLAS_CHOSEN"
}
