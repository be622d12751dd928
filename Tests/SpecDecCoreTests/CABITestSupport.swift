import CSpecDecABI
import SpecDecCore
#if canImport(Glibc)
import Glibc
#endif

/// Small wrappers over the C ABI shared by the reliability tests: each returns the status
/// with the result, so a test can check both.
enum CABI {
    static var lastMessage: String { String(cString: specdec_last_error_message()) }

    static func sessionMessage(_ session: OpaquePointer?) -> String { String(cString: specdec_session_error_message(session)) }

    static func loadModel(_ directory: String, useMmap: Bool = true) -> (specdec_status, OpaquePointer?) {
        var params = specdec_model_default_params()
        params.use_mmap = useMmap ? 1 : 0
        var model: OpaquePointer? = nil
        let status = directory.withCString { specdec_model_load($0, &params, &model) }
        return (status, model)
    }

    static func createSession(_ model: OpaquePointer?, capacity: Int32 = 128, threads: Int32 = 1) -> (specdec_status, OpaquePointer?) {
        var params = specdec_session_default_params()
        params.kv_capacity = capacity
        params.n_threads = threads
        var session: OpaquePointer? = nil
        let status = specdec_session_create(model, &params, &session)
        return (status, session)
    }

    static func generateParams(_ count: Int32) -> specdec_generate_params_t {
        var params = specdec_generate_default_params()
        params.max_new_tokens = count
        params.stop_at_eos = 0
        return params
    }

    /// Decoder-only generation: plain when `spec` is nil, else speculative.
    static func generate(_ session: OpaquePointer?, _ prompt: [Int32], count: Int32,
                         params: specdec_generate_params_t? = nil,
                         spec: specdec_speculative_params_t? = nil) -> (specdec_status, [Int32]) {
        var gp = params ?? generateParams(count)
        var out = [Int32](repeating: -1, count: Int(max(count, 1)))
        var n: Int32 = 0
        let status: specdec_status = prompt.withUnsafeBufferPointer { p in
            if var s = spec { return specdec_generate_speculative(session, p.baseAddress, Int32(p.count), &gp, &s, &out, count, &n) }
            return specdec_generate(session, p.baseAddress, Int32(p.count), &gp, &out, count, &n)
        }
        return (status, Array(out[0..<Int(n)]))
    }

    /// Encoder-decoder generation from a source, plain or speculative.
    static func translate(_ session: OpaquePointer?, _ source: [Int32], count: Int32,
                          params: specdec_generate_params_t? = nil,
                          spec: specdec_speculative_params_t? = nil) -> (specdec_status, [Int32]) {
        var gp = params ?? generateParams(count)
        var out = [Int32](repeating: -1, count: Int(max(count, 1)))
        var n: Int32 = 0
        let status: specdec_status = source.withUnsafeBufferPointer { s in
            if var sp = spec { return specdec_generate_seq2seq(session, s.baseAddress, Int32(s.count), nil, 0, &gp, &sp, &out, count, &n) }
            return specdec_generate_seq2seq(session, s.baseAddress, Int32(s.count), nil, 0, &gp, nil, &out, count, &n)
        }
        return (status, Array(out[0..<Int(n)]))
    }

    static func speculative(_ drafter: Int32, draftModel: OpaquePointer? = nil) -> specdec_speculative_params_t {
        var spec = specdec_speculative_default_params()
        spec.drafter = drafter
        spec.draft_model = draftModel
        return spec
    }
}

/// Process-level measurements for the resource tests.
enum ProcessProbe {
    /// Resident set size in bytes (/proc/self/statm, second field, in pages).
    static var residentBytes: Int { statm(field: 1) }

    /// Mapped address space in bytes (/proc/self/statm, first field): it shows memory that
    /// was reserved but never touched, which the resident size does not.
    static var virtualBytes: Int { statm(field: 0) }

    private static func statm(field: Int) -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, 256, file) != nil else { return 0 }
        let fields = String(cString: line).split(separator: " ")
        guard fields.count > field, let pages = Int(fields[field]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Threads of this process (/proc/self/task entries).
    static var threadCount: Int {
        guard let directory = opendir("/proc/self/task") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { count += 1 }
        }
        return count
    }

    /// Whether a file is mapped into this process (/proc/self/maps names it).
    static func maps(_ path: String) -> Bool {
        guard let file = fopen("/proc/self/maps", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, 4096, file) != nil {
            if String(cString: line).contains(path) { return true }
        }
        return false
    }
}

/// One thread's work and result for `runConcurrently`.
private final class ThreadSlot<T>: @unchecked Sendable {
    let index: Int
    let body: (Int) -> T
    var result: T?
    init(index: Int, body: @escaping (Int) -> T) { self.index = index; self.body = body }
    func run() { result = body(index) }
}

/// Runs `body(i)` on `count` threads at once (POSIX threads, each with its own stack) and
/// returns the results in index order.
func runConcurrently<T>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let slots = (0..<count).map { ThreadSlot(index: $0, body: body) }
    var threads: [pthread_t] = []
    for slot in slots {
        var thread = pthread_t()
        // The slot's type is erased to a closure so that the C start routine is not generic.
        let start: () -> Void = slot.run
        let context = Unmanaged.passRetained(ThreadStart(start)).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(created == 0, "pthread_create failed")
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
    return slots.map { $0.result! }
}

private final class ThreadStart {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
