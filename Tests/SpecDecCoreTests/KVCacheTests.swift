import CAllocationCounter
import SpecDecCore
import Testing

@Suite struct KVCacheTests {
    let directory = Fixtures.decoder("llama_f32")

    @Test func truncateAndRegenerateGivesIdenticalLogits() throws {
        let session = try Session(model: try ModelLoader.load(directory: directory), capacity: 64, threads: 2)
        let prompt: [Int32] = [10, 20, 30, 40, 50, 60]
        let first = try session.greedy(prompt, count: 12)
        let after = try session.logitRows([first[11]])
        // Roll back into the generated part, then redo the same steps.
        try session.truncate(to: prompt.count + 4)
        let redo = try session.logitRows(Array(first[4..<11]))
        let again = try session.logitRows([first[11]])
        #expect(again == after)
        #expect(redo.count == 7)
        // A fresh session scoring the whole sequence at once agrees with the incremental one.
        let fresh = try Session(model: try ModelLoader.load(directory: directory), capacity: 64, threads: 1)
        let all = try fresh.logitRows(prompt + Array(first[0..<12]))
        for (a, b) in zip(all.last!, again[0]) { #expect(abs(a - b) < 1e-4) }
    }

    @Test func batchedAndSingleStepEvaluationAgree() throws {
        let session = try Session(model: try ModelLoader.load(directory: directory), capacity: 64, threads: 2)
        let ids: [Int32] = [3, 14, 15, 92, 65, 35, 89, 79, 32]
        let batched = try session.logitRows(ids)
        session.reset()
        var stepped: [[Float]] = []
        for id in ids { stepped.append(try session.logitRows([id])[0]) }
        for (a, b) in zip(batched, stepped) {
            for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-4) }
        }
    }

    @Test func generationReusesTheCachedPrefix() throws {
        let session = try Session(model: try ModelLoader.load(directory: directory), capacity: 64)
        let prompt: [Int32] = [7, 8, 9, 10, 11]
        let first = try session.greedy(prompt, count: 6)
        let second = try session.greedy(prompt, count: 6)
        #expect(first == second)
        #expect(session.stats.reusedTokens == prompt.count - 1)
    }

    /// Every precision: the compact-weight kernels convert their input into the pool's
    /// scratch, which must not grow (or allocate) per token.
    @Test(arguments: [WeightPrecision.auto, .bf16, .int8])
    func perTokenLoopDoesNotAllocate(_ precision: WeightPrecision) throws {
        let model = try ModelLoader.load(directory: directory, options: LoadOptions(precision: precision))
        let session = try Session(model: model, capacity: 128, threads: 2)
        let prompt: [Int32] = [1, 2, 3, 4]
        var output = [Int32](repeating: 0, count: 64)
        func allocations(forTokens count: Int) -> Int {
            var options = GenerationOptions()
            options.maxNewTokens = count
            options.stopAtEndOfSequence = false
            session.reset()
            return prompt.withUnsafeBufferPointer { p in
                output.withUnsafeMutableBufferPointer { o in
                    allocation_counter_start()
                    let result = session.generate(prompt: p, options: options, output: o.baseAddress!) { _, _ in .proceed }
                    let counted = allocation_counter_stop()
                    #expect(result.error == nil)
                    return counted
                }
            }
        }
        _ = allocations(forTokens: 4)  // warm-up
        let short = allocations(forTokens: 8)
        let long = allocations(forTokens: 56)
        #expect(long == short, "generating 48 more tokens made \(long - short) extra heap allocations")
        #expect(session.arena.allocationCount > 0)
    }
}

@Suite struct ThreadingTests {
    @Test func oneAndTwoThreadsGiveTheSameLogits() throws {
        let directory = Fixtures.decoder("qwen2_f32")
        let one = try Session(model: try ModelLoader.load(directory: directory), capacity: 32, threads: 1)
        let two = try Session(model: try ModelLoader.load(directory: directory), capacity: 32, threads: 2)
        let ids: [Int32] = [4, 40, 140, 240, 17, 71]
        #expect(try one.logitRows(ids) == two.logitRows(ids))
    }

    @Test func poolRunsEveryChunkOnce() {
        let pool = ThreadPool(threadCount: 3)
        for chunks in [1, 2, 7, 100, 1000] {
            var hits = [Int](repeating: 0, count: chunks)
            hits.withUnsafeMutableBufferPointer { buffer in
                pool.run(chunks: chunks, context: buffer.baseAddress!) { raw, chunk, _ in
                    raw.load(as: UnsafeMutablePointer<Int>.self)[chunk] += 1
                }
            }
            #expect(hits == [Int](repeating: 1, count: chunks))
        }
    }

    @Test func poolThreadsEndWithThePool() {
        func threadCount() -> Int { (try? MappedFile.readAll("/proc/self/status")).map { text in
            String(decoding: text, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Threads:") }
                .flatMap { Int($0.dropFirst(8).trimmingCharacters()) } ?? -1 } ?? -1 }
        let before = threadCount()
        for _ in 0..<20 {
            let pool = ThreadPool(threadCount: 4)
            var x = 0
            withUnsafeMutablePointer(to: &x) { p in pool.run(chunks: 8, context: p) { _, _, _ in } }
        }
        // Other tests run concurrently and may own pools; 20 leaked pools would add 60 threads.
        #expect(threadCount() < before + 20)
    }
}

@Suite struct ArenaTests {
    @Test func mmapBackendWorks() throws {
        let arena = try Arena(byteCount: 1 << 20, backend: .mmap)
        #expect(arena.backend == .mmap)
        let p = try arena.allocate(Float.self, count: 1000)
        p[999] = 1
        #expect(Int(bitPattern: p) % 64 == 0)
    }

    @Test func exhaustedArenaIsAnError() throws {
        let arena = try Arena(byteCount: 4096, backend: .mmap)
        #expect(throws: SpecDecError.self) { _ = try arena.allocate(Float.self, count: 10_000) }
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self.filter { $0 != " " && $0 != "\t" }) }
}
