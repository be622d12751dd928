import CSpecDecKernels
#if canImport(Glibc)
import Glibc
#endif

/// The instruction path the compact-weight kernels run on, chosen at load from what the
/// CPU and the OS allow. `auto` picks the fastest; the others force one (tests, benchmarks).
/// The C values are pinned: SPECDEC_KERNELS_* in specdec.h.
public enum KernelPath: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case auto = 0
    case portable = 1      // baseline x86-64 (SSE2)
    case avx2 = 2          // AVX2 + FMA + F16C
    case avx512 = 3        // AVX-512 F/BW/DQ/VL
    case avx512BF16 = 4    // AVX512_BF16 (vdpbf16ps) and AVX-512 VNNI (vpdpbusd)
    case amx = 5           // AMX tiles (bf16, int8); one-token passes use the AVX512_BF16 kernels

    public var description: String {
        switch self {
        case .auto: "auto"
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        case .avx512BF16: "avx512_bf16"
        case .amx: "amx"
        }
    }

    public init?(name: String) {
        guard let path = KernelPath.allCases.first(where: { $0.description == name }) else { return nil }
        self = path
    }

    /// Paths this process can run, fastest last.
    public static let supported: [KernelPath] = {
        let f = specdec_cpu_features()
        var paths: [KernelPath] = [.portable]
        if f & UInt32(SPECDEC_CPU_AVX2) != 0 { paths.append(.avx2) }
        if f & UInt32(SPECDEC_CPU_AVX512) != 0 { paths.append(.avx512) }
        let dot = UInt32(SPECDEC_CPU_AVX512_BF16) | UInt32(SPECDEC_CPU_AVX512_VNNI)
        if f & dot == dot { paths.append(.avx512BF16) }
        // Linux hands out the tile state only on request; without it a tile instruction is SIGILL.
        if f & UInt32(SPECDEC_CPU_AMX) != 0, paths.contains(.avx512BF16), specdec_amx_request_permission() == 0 {
            paths.append(.amx)
        }
        return paths
    }()

    /// Why `path` cannot run here, or nil when it can.
    public static func unsupportedReason(_ path: KernelPath) -> String? {
        if path == .auto || supported.contains(path) { return nil }
        let have = supported.map(\.description).joined(separator: ", ")
        return "kernel path \(path) is not available on this CPU (available: \(have))"
    }

    /// The path a load uses: `requested`, or for `auto` the SPECDEC_KERNEL_PATH environment
    /// variable when set, else the fastest supported path.
    public static func resolve(_ requested: KernelPath) throws(SpecDecError) -> KernelPath {
        var path = requested
        if path == .auto, let raw = getenv("SPECDEC_KERNEL_PATH") {
            let name = String(cString: raw)
            if !name.isEmpty {
                guard let named = KernelPath(name: name) else {
                    let names = KernelPath.allCases.map(\.description).joined(separator: ", ")
                    throw .invalidArgument("SPECDEC_KERNEL_PATH=\(name) is not a kernel path (one of: \(names))")
                }
                path = named
            }
        }
        if path == .auto { return supported.last! }
        if let reason = unsupportedReason(path) { throw .init(.unsupported, reason) }
        return path
    }
}

/// The precision projection weights are computed in, chosen at load (SPECDEC_WEIGHTS_*).
public enum WeightPrecision: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// As stored: fp32 stays fp32; fp16 and bf16 weights are used in 16 bits with fp32
    /// activations (no expansion, no rounding beyond what the file holds).
    case auto = 0
    /// Every weight widened to fp32 at load.
    case fp32 = 1
    /// bf16 weights and bf16 activations, fp32 sums (AMX / AVX512_BF16 where present).
    case bf16 = 2
    /// int8 weights with per-output-row symmetric scales, activations quantised per row
    /// (as CTranslate2's int8), exact int32 sums.
    case int8 = 3

    public var description: String {
        switch self {
        case .auto: "auto"
        case .fp32: "fp32"
        case .bf16: "bf16"
        case .int8: "int8"
        }
    }

    public init?(name: String) {
        guard let precision = WeightPrecision.allCases.first(where: { $0.description == name }) else { return nil }
        self = precision
    }
}

/// What a load asks for: weight precision and kernel path.
public struct LoadOptions: Sendable {
    public var useMmap = true
    public var precision = WeightPrecision.auto
    public var kernelPath = KernelPath.auto
    public init(useMmap: Bool = true, precision: WeightPrecision = .auto, kernelPath: KernelPath = .auto) {
        self.useMmap = useMmap
        self.precision = precision
        self.kernelPath = kernelPath
    }
}
