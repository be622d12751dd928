#if canImport(Glibc)
import Glibc
#endif
import CSpecDecShims
import Synchronization

/// A persistent pool of compute threads for kernels that take tens of microseconds.
///
/// The calling thread works too. Work is a C function pointer plus a context pointer, so
/// a dispatch allocates nothing. Chunks are claimed from one atomic ticket holding the
/// run's generation and the next chunk index, so a worker that wakes late finds nothing
/// to claim instead of holding the run up. The ticket carries the run's chunk count too:
/// a worker that read an older run's ticket must not be able to claim with the new run's
/// count (it would run a chunk that does not exist and count it towards the new run).
/// Idle workers spin for a bounded time, then
/// sleep on a condition variable: on a loaded machine, spinners must not eat the
/// scheduler slices the busy threads need.
public final class ThreadPool: @unchecked Sendable {
    /// `kernel(context, chunk, thread)`: processes one chunk; `thread` in 0..<threadCount
    /// selects per-thread scratch.
    public typealias Kernel = @convention(c) (_ context: UnsafeRawPointer, _ chunk: Int, _ thread: Int) -> Void

    public let threadCount: Int
    /// Inputs of compact-weight projections, converted once per pass (the pool belongs to
    /// one session, and a session is used by one thread at a time).
    public let activations = ActivationScratch()
    private let state: PoolState
    private var threads: [pthread_t] = []

    /// - threadCount: total threads including the caller (>= 1).
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        state = PoolState()
        for index in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerStart(state: state, index: index)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.state.workerLoop(thread: start.index)
                return nil
            }, context)
            if created == 0 { threads.append(thread) } else { Unmanaged<WorkerStart>.fromOpaque(context).release() }
        }
    }

    deinit {
        state.shutDown()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `kernel` for every chunk in 0..<chunks and returns when all are done.
    public func run(chunks: Int, context: UnsafeRawPointer, kernel: Kernel) {
        if chunks <= 0 { return }
        if threads.isEmpty || chunks == 1 || chunks > PoolState.maxChunks {
            for c in 0..<chunks { kernel(context, c, 0) }
            return
        }
        state.run(chunks: chunks, context: context, kernel: kernel)
    }

    /// Runs `kernel` with a pointer to `context` (a struct on the caller's stack).
    public func run<Context>(chunks: Int, context: Context, kernel: Kernel) {
        withUnsafePointer(to: context) { run(chunks: chunks, context: UnsafeRawPointer($0), kernel: kernel) }
    }
}

private final class WorkerStart {
    let state: PoolState
    let index: Int
    init(state: PoolState, index: Int) { self.state = state; self.index = index }
}

/// What the pool's threads share. Workers hold this, not the pool, so that releasing the
/// pool runs its deinit, which stops and joins them.
final class PoolState: @unchecked Sendable {
    /// generation << 38 | chunk count << 19 | next chunk: claimed by compare-and-swap, so
    /// a claim checks the generation and the count it was made against in one step.
    private let ticket = Atomic<UInt64>(0)
    private static let fieldBits: UInt64 = 19
    private static let fieldMask: UInt64 = (1 << fieldBits) - 1
    private static let generationShift: UInt64 = 2 * fieldBits
    private static let generationMask: UInt64 = (1 << (64 - generationShift)) - 1
    /// Larger dispatches run on the calling thread (no caller comes near this).
    static let maxChunks = Int(fieldMask)
    private let completed = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var kernel: ThreadPool.Kernel?
    private var context: UnsafeRawPointer?
    private var generation: UInt64 = 0
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
    private var sleepers = 0
    private static let workerSpins = 4_000
    private static let callerSpinsBeforeYield = 2_000

    init() {
        mutex = .allocate(capacity: 1)
        wakeUp = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wakeUp)
        mutex.deallocate()
        wakeUp.deallocate()
    }

    func run(chunks: Int, context: UnsafeRawPointer, kernel: ThreadPool.Kernel) {
        self.kernel = kernel
        self.context = context
        completed.store(0, ordering: .relaxed)
        generation = (generation + 1) & PoolState.generationMask
        ticket.store(generation << PoolState.generationShift | UInt64(chunks) << PoolState.fieldBits, ordering: .releasing)
        pthread_mutex_lock(mutex)
        if sleepers > 0 { pthread_cond_broadcast(wakeUp) }
        pthread_mutex_unlock(mutex)
        drain(generation: generation, thread: 0)
        var spins = 0
        while completed.load(ordering: .acquiring) != chunks {
            spins += 1
            if spins < PoolState.callerSpinsBeforeYield { specdec_cpu_relax() } else { sched_yield() }
        }
        self.kernel = nil
        self.context = nil
    }

    /// Claims and runs chunks of `generation` until none are left.
    private func drain(generation: UInt64, thread: Int) {
        while true {
            var current = ticket.load(ordering: .acquiring)
            var chunk = 0
            while true {
                guard current >> PoolState.generationShift == generation else { return }
                chunk = Int(current & PoolState.fieldMask)
                guard chunk < Int((current >> PoolState.fieldBits) & PoolState.fieldMask) else { return }
                let (exchanged, original) = ticket.compareExchange(
                    expected: current, desired: current + 1, successOrdering: .acquiring, failureOrdering: .acquiring)
                if exchanged { break }
                current = original
            }
            // The run cannot finish while this chunk is unfinished, so kernel and context
            // are still those of `generation`.
            kernel!(context!, chunk, thread)
            completed.wrappingAdd(1, ordering: .releasing)
        }
    }

    func workerLoop(thread: Int) {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            while ticket.load(ordering: .acquiring) >> PoolState.generationShift == seen, !stopping.load(ordering: .relaxed), spins < PoolState.workerSpins {
                specdec_cpu_relax()
                spins += 1
            }
            if ticket.load(ordering: .acquiring) >> PoolState.generationShift == seen, !stopping.load(ordering: .relaxed) {
                pthread_mutex_lock(mutex)
                sleepers += 1
                while ticket.load(ordering: .acquiring) >> PoolState.generationShift == seen, !stopping.load(ordering: .relaxed) {
                    pthread_cond_wait(wakeUp, mutex)
                }
                sleepers -= 1
                pthread_mutex_unlock(mutex)
            }
            if stopping.load(ordering: .acquiring) { return }
            seen = ticket.load(ordering: .acquiring) >> PoolState.generationShift
            drain(generation: seen, thread: thread)
        }
    }

    func shutDown() {
        pthread_mutex_lock(mutex)
        stopping.store(true, ordering: .releasing)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
    }
}
