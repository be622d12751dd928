import Testing
import SpecDecCore

/// The pool runs every chunk of every dispatch exactly once and returns only when all are
/// done, whatever the chunk counts of consecutive dispatches and however busy the machine.
@Suite struct ThreadPoolTests {
    struct Job {
        var marks: UnsafeMutablePointer<Int>
        var chunks: Int
    }

    static let maxChunks = 64

    /// `runs` dispatches with chunk counts cycling through 1...maxChunks in an order that
    /// alternates large and small, checking after each that chunk c ran once for c < chunks
    /// and never beyond.
    static func hammer(_ pool: ThreadPool, runs: Int) -> String? {
        let marks = UnsafeMutablePointer<Int>.allocate(capacity: maxChunks)
        defer { marks.deallocate() }
        marks.initialize(repeating: 0, count: maxChunks)
        var expected = [Int](repeating: 0, count: maxChunks)
        for run in 0..<runs {
            let chunks = run % 2 == 0 ? 1 + (run / 2) % maxChunks : 1 + (run * 7) % 5
            pool.run(chunks: chunks, context: Job(marks: marks, chunks: chunks)) { raw, chunk, _ in
                let job = raw.assumingMemoryBound(to: Job.self).pointee
                job.marks[min(chunk, ThreadPoolTests.maxChunks - 1)] += chunk < job.chunks ? 1 : 1_000_000
            }
            for c in 0..<chunks { expected[c] += 1 }
            for c in 0..<maxChunks where marks[c] != expected[c] {
                return "run \(run) (\(chunks) chunks): chunk \(c) ran \(marks[c]) times, expected \(expected[c])"
            }
        }
        return nil
    }

    @Test func everyChunkRunsExactlyOnce() {
        let pool = ThreadPool(threadCount: 2)
        #expect(Self.hammer(pool, runs: 100_000) == nil)
    }

    /// Three pools driven at once from three threads: more threads than this machine's
    /// cores, so workers are preempted mid-chunk and callers wait on them.
    @Test func oversubscribedPoolsStayCorrect() async {
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let pool = ThreadPool(threadCount: 3)
                    return Self.hammer(pool, runs: 100_000)
                }
            }
            var found: [String] = []
            for await result in group { if let result { found.append(result) } }
            return found
        }
        #expect(failures.isEmpty, "\(failures)")
    }
}
