// swift-tools-version:6.0
import PackageDescription

// The Swift code is compiled for a portable baseline, AVX2 + FMA (`haswell`), which every
// x86-64 server of the last decade has; the library checks the CPU at load time and
// refuses to run (with a status, not a crash) without it. The kernels that gain from wider
// instructions (the compact-weight and fp32 projections) carry their own AVX-512, AVX512_BF16
// and AMX paths and pick one at run time. SPECDEC_TARGET_CPU=skylake-avx512 (or another
// LLVM CPU name) builds the Swift code for a newer machine instead.
let targetCPU = Context.environment["SPECDEC_TARGET_CPU"] ?? "haswell"
let optimisedSwift: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-target-cpu", targetCPU], .when(configuration: .release)),
    .unsafeFlags(["-target-cpu", targetCPU], .when(configuration: .debug)),
]
let shimSettings: [CSetting] = [.unsafeFlags(["-O2", "-march=\(targetCPU)", "-fvisibility=hidden"])]
    + (targetCPU.contains("avx512") || targetCPU.hasPrefix("znver4") || targetCPU == "sapphirerapids"
       ? [] : [.define("SPECDEC_BASELINE_AVX2")])

let package = Package(
    name: "libspecdec",
    products: [
        // libspecdec.so: the C ABI. Build it with scripts/build.sh, which links the Swift
        // runtime statically and exports only specdec_* symbols.
        .library(name: "specdec", type: .dynamic, targets: ["SpecDecCABI"]),
        // The `specdec` command (installed as dist/bin/specdec by scripts/build.sh).
        .executable(name: "specdec-cli", targets: ["SpecDecCLI"]),
        .executable(name: "specdec-fuzz", targets: ["SpecDecFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CSpecDecShims", cSettings: shimSettings),
        // Compact-weight kernels: compiled for baseline x86-64, each path's functions carry
        // their own target attributes and run only when the CPU has them.
        .target(name: "CSpecDecKernels", cSettings: [.unsafeFlags(["-O3", "-fvisibility=hidden"])]),
        .target(name: "SpecDecJSON", swiftSettings: optimisedSwift),
        .target(name: "SpecDecCore", dependencies: ["CSpecDecShims", "CSpecDecKernels", "SpecDecJSON"], swiftSettings: optimisedSwift),
        .target(name: "SpecDecTokenizers", dependencies: ["SpecDecJSON"], swiftSettings: optimisedSwift),
        .target(name: "CSpecDecABI"),
        .target(name: "SpecDecCABI", dependencies: ["SpecDecCore", "SpecDecTokenizers", "CSpecDecABI"], exclude: ["exports.map"], swiftSettings: optimisedSwift),
        .executableTarget(
            name: "SpecDecCLI",
            dependencies: ["SpecDecCore", "SpecDecTokenizers", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimisedSwift),
        .executableTarget(
            name: "TokenizerBench", dependencies: ["SpecDecTokenizers"], path: "bench/tokenizer",
            exclude: ["bench_tokenizer.py", "README.md", "run.sh"], swiftSettings: optimisedSwift),
        // libFuzzer targets (scripts/fuzz.sh builds them with -DFUZZING); built plainly, a replayer.
        .executableTarget(
            name: "SpecDecFuzz", dependencies: ["SpecDecCABI", "SpecDecCore", "SpecDecJSON", "CSpecDecABI"], path: "Tests/Fuzz",
            exclude: ["dictionaries", "regressions", "seeds"]),
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(name: "SpecDecJSONTests", dependencies: ["SpecDecJSON"]),
        .testTarget(name: "SpecDecTokenizersTests", dependencies: ["SpecDecTokenizers"]),
        .testTarget(
            name: "SpecDecCoreTests",
            dependencies: ["SpecDecCore", "SpecDecCABI", "CSpecDecABI", "CSpecDecKernels", "CAllocationCounter"]),
    ]
)
