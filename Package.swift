// swift-tools-version:6.1
import PackageDescription

/// Extra Swift flags for the engine, set by `scripts/dist.sh` for the release build:
/// `KMTALK_STATIC_STDLIB=1` links the Swift runtime statically into libKMTalk.so so the
/// library loads on machines without a Swift toolchain. Opt-in, so `swift test` keeps the
/// normal shared runtime.
let staticStdlib = Context.environment["KMTALK_STATIC_STDLIB"] == "1"

/// `KMTALK_SONAME`, set by `scripts/dist.sh`: the release library's SONAME
/// (`libKMTalk.so.<ABI major>`), so hosts link against the ABI, not one build.
let soname = Context.environment["KMTALK_SONAME"]

/// `KMTALK_FUZZ=1` adds the libFuzzer targets (fuzz/, built by `scripts/fuzz.sh` with
/// `-sanitize=fuzzer,address`); they have no `main` of their own, so a normal build
/// leaves them out.
let fuzz = Context.environment["KMTALK_FUZZ"] == "1"

/// The linker version script that limits libKMTalk.so's exported symbols to `kmt_*`.
let exportMap = Context.packageDirectory + "/Sources/KMTalkEngine/exports.map"

let package = Package(
    name: "KMTalk",
    products: [
        .library(name: "KMTalk", type: .dynamic, targets: ["KMTalkEngine"]),
        .executable(name: "kmtalk", targets: ["kmtalk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CSndFile", pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(
            name: "CSoxr", pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CKMTalk"),
        // The CLI's link to libKMTalk.so: loads it at run time and forwards every C API
        // function into it (Sources/CKMTalkHost/include/kmtalk_host.h), so the CLI is a
        // host of include/kmtalk.h like any other program.
        .target(name: "CKMTalkHost", dependencies: ["CKMTalk"], linkerSettings: [.linkedLibrary("dl")]),
        // The C kernels. DWARF 4: Valgrind 3.19 (Debian 12) cannot read a library with more
        // than one DWARF 5 compile unit (clang's default) and gives up on the whole file.
        .target(name: "CKMTalkKernels", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        // The SIMD kernels (VectorMath, FFTLanes), optimised in every configuration: at
        // -Onone Swift's SIMD types run through unspecialised generic code, 10-50x slower,
        // which made debug builds (the tests, valgrind) crawl.
        .target(name: "KMTalkVector", swiftSettings: [.unsafeFlags(["-O"])]),
        .target(
            name: "KMTalkEngine",
            dependencies: ["CKMTalk", "CKMTalkKernels", "KMTalkVector", "COpenBLAS", "CSndFile", "CSoxr"],
            exclude: ["exports.map"],
            swiftSettings: staticStdlib ? [.unsafeFlags(["-static-stdlib"])] : [],
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--version-script=\(exportMap)"]),
            ] + (staticStdlib ? [.unsafeFlags(["-static-stdlib"])] : [])
                + (soname.map { [.unsafeFlags(["-Xlinker", "-soname=\($0)"])] } ?? [])),
        .executableTarget(
            name: "kmtalk",
            dependencies: [
                "CKMTalk", "CKMTalkHost", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "KMTalkEngineTests",
            dependencies: ["KMTalkEngine", "KMTalkVector", "CKMTalk", "CSndFile"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "KMTalkCLITests",
            dependencies: ["kmtalk", "KMTalkEngine", "CKMTalk", "CKMTalkHost", "CZlib"]),
    ] + (fuzz ? [
        .executableTarget(
            name: "kmtalk-fuzz", dependencies: ["KMTalkEngine", "CKMTalk"], path: "fuzz/Sources/kmtalk-fuzz",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ] : []),
    swiftLanguageModes: [.v6]
)
