import CSpecDecShims
#if canImport(Glibc)
import Glibc
#endif

/// Where a session's memory comes from.
public enum ArenaBackend: Int32, Sendable {
    case automatic = 0
    case jemalloc = 1
    case mmap = 2

    public var name: String {
        switch self {
        case .automatic: return "auto"
        case .jemalloc: return "jemalloc"
        case .mmap: return "mmap"
        }
    }
}

/// One region of memory per session, carved up by a bump allocator and released all at
/// once. The KV cache and every scratch buffer of a session live in it, so the per-token
/// loop never allocates. The region comes from a dedicated jemalloc arena when the host
/// process has jemalloc, and from an anonymous mapping otherwise.
public final class Arena: @unchecked Sendable {
    public let backend: ArenaBackend
    public let capacity: Int
    private let base: UnsafeMutableRawPointer
    private var used = 0
    private var jemallocArena: UInt32 = 0
    /// Number of carve-outs made (a test checks none happen per token).
    public private(set) var allocationCount = 0

    /// - backend: `.automatic` tries jemalloc, then mmap.
    public init(byteCount: Int, backend requested: ArenaBackend) throws(SpecDecError) {
        let physical = PhysicalMemory.bytes
        guard byteCount >= 0, byteCount <= physical - 4096 else {
            throw .init(.outOfMemory, "a session arena of \(PhysicalMemory.describe(byteCount)) (\(byteCount) bytes) exceeds this machine's \(PhysicalMemory.describe(physical)) of physical memory; ask for a smaller kv_capacity")
        }
        let size = max(4096, (byteCount + 4095) & ~4095)
        capacity = size
        var reason: UnsafePointer<CChar>? = nil
        let jemallocUsable = requested != .mmap && specdec_jemalloc_resolve(&reason) == 1
        if requested == .jemalloc && !jemallocUsable {
            throw .unsupported("jemalloc arena requested but unavailable: \(reason.map { String(cString: $0) } ?? "unknown reason")")
        }
        if jemallocUsable {
            var arena: UInt32 = 0
            if specdec_jemalloc_arena_create(&arena) == 0, let p = specdec_jemalloc_alloc(arena, size) {
                jemallocArena = arena
                base = p
                backend = .jemalloc
                return
            }
            if requested == .jemalloc { throw .init(.outOfMemory, "jemalloc could not provide \(size) bytes") }
        }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw .init(.outOfMemory, "cannot map \(size) bytes for the session arena: \(String(cString: strerror(errno)))")
        }
        base = p
        backend = .mmap
    }

    deinit {
        switch backend {
        case .jemalloc:
            specdec_jemalloc_free(jemallocArena, base)
            specdec_jemalloc_arena_destroy(jemallocArena)
        default:
            munmap(base, capacity)
        }
    }

    /// Carves `count` elements, 64-byte aligned, zero-initialised.
    public func allocate<T>(_ type: T.Type, count: Int) throws(SpecDecError) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count) * MemoryLayout<T>.stride
        let start = (used + 63) & ~63
        guard start + bytes <= capacity else {
            throw .init(.outOfMemory, "session arena exhausted (\(capacity) bytes)")
        }
        used = start + bytes
        allocationCount += 1
        let pointer = base + start
        // A fresh anonymous mapping is zero already, and untouched pages cost nothing until
        // used: a long KV cache takes memory only as it fills.
        if backend != .mmap { memset(pointer, 0, bytes) }
        return pointer.bindMemory(to: T.self, capacity: max(1, count))
    }

    /// Bytes an `allocate` of `count` T's consumes at most (for sizing the region).
    public static func footprint<T>(_ type: T.Type, count: Int) -> Int {
        max(1, count) * MemoryLayout<T>.stride + 64
    }
}
