#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import CSpecDecShims

/// A persistent pool of compute threads for kernels that take tens of microseconds.
/// The calling thread works too. Idle workers spin for a bounded time (a dispatch costs
/// well under a microsecond while they spin) and then sleep on a condition variable, so
/// a loaded machine does not lose whole scheduler slices to spinners.
/// Dispatching allocates nothing: the task is a borrowed closure.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private let generation = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    private let pendingWorkers = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    private var chunkCount = 0
    private var task: ((_ chunk: Int, _ thread: Int) -> Void)?
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
    private var sleepers = 0
    private var threads: [pthread_t] = []
    private static let spinIterations = 20_000

    /// - threadCount: total threads including the caller (>= 1).
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        mutex = .allocate(capacity: 1)
        wakeUp = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
        for index in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool!.workerLoop(index: context.index)
                return nil
            }, context)
            if created == 0 { threads.append(thread) } else { Unmanaged<WorkerContext>.fromOpaque(context).release() }
        }
    }

    deinit {
        shuttingDown.store(true, ordering: .releasing)
        pthread_mutex_lock(mutex)
        generation.wrappingAdd(1, ordering: .releasing)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wakeUp)
        mutex.deallocate()
        wakeUp.deallocate()
    }

    private final class WorkerContext {
        // Unowned on purpose: the pool joins its threads in deinit.
        unowned(unsafe) let pool: ThreadPool?
        let index: Int
        init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Runs `body(chunk, thread)` for every chunk in 0..<chunks, spread over the threads,
    /// and returns when all are done. `thread` is in 0..<threadCount (scratch indexing).
    public func run(chunks: Int, _ body: (_ chunk: Int, _ thread: Int) -> Void) {
        if chunks <= 0 { return }
        if threads.isEmpty || chunks == 1 {
            for c in 0..<chunks { body(c, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            task = escapable
            chunkCount = chunks
            nextChunk.store(0, ordering: .relaxed)
            pendingWorkers.store(threads.count, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
            if sleepers > 0 { pthread_cond_broadcast(wakeUp) }
            pthread_mutex_unlock(mutex)
            work(thread: 0)
            while pendingWorkers.load(ordering: .acquiring) != 0 { spinPause() }
            task = nil
        }
    }

    /// Splits `count` items into chunks of `granule`-aligned size, about four per thread.
    public func parallelFor(count: Int, granule: Int = 1, _ body: (_ range: Range<Int>, _ thread: Int) -> Void) {
        let perChunk = max(granule, (count / (threadCount * 4) + granule - 1) / granule * granule)
        let chunks = (count + perChunk - 1) / perChunk
        run(chunks: chunks) { chunk, thread in
            let start = chunk * perChunk
            body(start..<min(count, start + perChunk), thread)
        }
    }

    @inline(__always)
    private func work(thread: Int) {
        let body = task!
        while true {
            let chunk = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
            if chunk >= chunkCount { break }
            body(chunk, thread)
        }
    }

    private func workerLoop(index: Int) {
        // Generation 0 is the pool's starting state: a worker that starts late still
        // takes part in a run already announced.
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen, spins < ThreadPool.spinIterations {
                spinPause()
                spins += 1
            }
            if generation.load(ordering: .acquiring) == seen {
                pthread_mutex_lock(mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wakeUp, mutex) }
                sleepers -= 1
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if shuttingDown.load(ordering: .acquiring) { return }
            work(thread: index)
            pendingWorkers.wrappingSubtract(1, ordering: .releasing)
        }
    }

    @inline(__always)
    private func spinPause() { specdec_cpu_relax() }
}
