import Foundation
import Testing

@testable import kmtalk

/// The CLI's OpenBLAS kernel check: which core type a CPU's flags allow, that the loaded
/// kernel is read from the running OpenBLAS, and that the user's choice is reported.
@Suite struct OpenBLASCoreTests {
    @Test func suitedCoreTypeFollowsTheFlags() {
        let avx512: Set<Substring> = ["sse2", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
        #expect(OpenBLASCore.suitedCoreType(flags: avx512) == "SkylakeX")
        #expect(OpenBLASCore.suitedCoreType(flags: ["avx2", "fma", "avx512f"]) == "Haswell", "AVX-512F alone is not SkylakeX")
        #expect(OpenBLASCore.suitedCoreType(flags: ["avx2", "fma"]) == "Haswell")
        #expect(OpenBLASCore.suitedCoreType(flags: ["avx", "avx2"]) == nil, "AVX2 without FMA")
        #expect(OpenBLASCore.suitedCoreType(flags: []) == nil)
    }

    @Test func theLoadedKernelIsReadFromOpenBLAS() throws {
        let name = try #require(OpenBLASCore.loaded)
        #expect(!name.isEmpty)
        #expect(OpenBLASCore.describe().hasPrefix(name))
        if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !forced.isEmpty {
            #expect(OpenBLASCore.describe().contains("OPENBLAS_CORETYPE=\(forced)"))
        }
    }

    @Test func genericKernelsAreTheFallbacks() {
        #expect(OpenBLASCore.generic.contains("prescott"))
        #expect(!OpenBLASCore.generic.contains("haswell") && !OpenBLASCore.generic.contains("skylakex"))
    }
}
