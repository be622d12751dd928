/// A session that decodes many sequences with one model pass per token: each sequence
/// lives in a slot of `SequenceSlots`, and a pass runs one row per slot.
protocol BatchDecodingTarget: AnyObject {
    var slots: SequenceSlots? { get }
    var maxSequences: Int { get }
    var vocabSize: Int { get }
    var stats: GenerationStats { get set }
    var positionLimit: Int { get }
    var endTokenIds: [Int] { get }
    /// Checks one input before it joins the batch.
    func validateBatchInput(_ input: UnsafeBufferPointer<Int32>) throws(SpecDecError)
    /// Starts inputs[starting[i]] (validated) in slot firstSlot + i: either leaves its first
    /// token in slots.tokens for the next pass (false), or runs what comes first and leaves
    /// logits in its row (true). inputs[queued...] wait in the queue (work for them may be
    /// done ahead, with this work).
    func startSequences(_ starting: [Int], of inputs: [UnsafeBufferPointer<Int32>], queued: Int, firstSlot: Int) -> Bool
    /// One pass over slots 0 ..< count, each running slots.tokens[slot]; logits in each row.
    func stepEachSequence(count: Int)
}

extension BatchDecodingTarget {
    /// A batch call on either kind of session: checks, then the batched loop, or one
    /// sequence after another (`decodeAlone`, else `alone`: the session's one-sequence
    /// call) when the session holds one sequence or the decoding has no batched pass.
    func runBatch(_ inputs: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64]?, schedule: BatchSchedule,
                  outputs: UnsafeMutablePointer<Int32>, vocabularyName: String, decodeAlone: BatchDecodeAlone?,
                  alone: BatchDecodeAlone) throws(SpecDecError) -> [BatchSequenceResult] {
        try schedule.validate(count: inputs.count, seeds: seeds, sessionLimit: maxSequences)
        try options.validate(vocabSize: vocabSize, vocabularyName: vocabularyName)
        let seeds = seeds ?? [UInt64](repeating: options.sampling.seed, count: inputs.count)
        var batchStats = GenerationStats()
        defer { stats = batchStats }
        guard schedule.maxSequences > 1, let slots, decodeAlone == nil else {
            return BatchOneByOne.run(count: inputs.count, options: options, seeds: seeds, outputs: outputs, stats: &batchStats) { i, options, output in
                let result = decodeAlone.map { $0(i, options, output) } ?? alone(i, options, output)
                return (result, stats)
            }
        }
        slots.clearStaging()
        return BatchDecodingLoop.run(self, inputs: inputs, options: options, seeds: seeds, schedule: schedule,
                                     outputs: outputs, stats: &batchStats)
    }
}

/// Batched greedy decoding and sampling: inputs queue up, at most `schedule.maxSequences`
/// decode together, and each step samples every row, emits through its own `TokenEmitter`
/// and runs one pass for all rows that continue. A row computes exactly what decoding its
/// sequence alone computes (the kernels sum a row the same way whatever the row count), so
/// every output equals the one-sequence result.
enum BatchDecodingLoop {
    static func run<Target: BatchDecodingTarget>(
        _ target: Target, inputs: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64],
        schedule: BatchSchedule, outputs: UnsafeMutablePointer<Int32>, stats: inout GenerationStats
    ) -> [BatchSequenceResult] {
        var results = [BatchSequenceResult](repeating: BatchSequenceResult(), count: inputs.count)
        guard let slots = target.slots else { return results }
        let width = max(1, options.maxNewTokens)
        let limit = min(schedule.maxSequences, slots.count)
        var emitters: [TokenEmitter] = []
        emitters.reserveCapacity(limit)
        var owners = [Int](repeating: -1, count: limit)   // the input each slot decodes
        var ready = [Bool](repeating: false, count: limit) // logits in the row wait to be sampled
        var active = 0, next = 0, activeTokens = 0
        let start = Clock.now()
        var encodeSeconds = 0.0

        // Fills free slots from the queue while the token budget allows, and starts the new
        // sequences together (one encoder pass for all their sources).
        var starting: [Int] = []
        func admit() {
            starting.removeAll(keepingCapacity: true)
            let first = active
            while active < limit && next < inputs.count {
                let input = inputs[next]
                if schedule.maxTokens > 0 && active > 0 && activeTokens + input.count > schedule.maxTokens { break }
                let index = next
                next += 1
                stats.promptTokens += input.count
                do {
                    try target.validateBatchInput(input)
                } catch {
                    results[index].error = error.prefixed("sequence \(index)")
                    results[index].stopReason = .error
                    continue
                }
                if options.maxNewTokens == 0 { results[index].stopReason = .maxTokens; continue }
                var sampling = options.sampling
                sampling.seed = seeds[index]
                slots.samplers[active].reset(sampling)
                let emitter = TokenEmitter(output: outputs + index * width, options: options, endTokenIds: target.endTokenIds)
                if active < emitters.count { emitters[active] = emitter } else { emitters.append(emitter) }
                owners[active] = index
                activeTokens += input.count
                starting.append(index)
                active += 1
            }
            guard !starting.isEmpty else { return }
            let began = Clock.now()
            let hasLogits = target.startSequences(starting, of: inputs, queued: next, firstSlot: first)
            for row in first..<active { ready[row] = hasLogits }
            encodeSeconds += Clock.now() - began
        }

        // Samples every row with fresh logits; rows that finish leave (the last row moves
        // into their place, so rows stay 0 ..< active; it was already sampled, going backwards).
        func sampleReady() -> Int {
            var finished = 0
            var row = active - 1
            while row >= 0 {
                defer { row -= 1 }
                guard ready[row] else { continue }
                ready[row] = false
                let cache = slots.caches[row]
                let token = slots.samplers[row].sample(slots.logits(row), history: cache.tokens, historyCount: cache.length)
                var rowStats = GenerationStats()
                rowStats.stopReason = .maxTokens
                var keeps = emitters[row].emit(token, stats: &rowStats) { _, _ in .proceed }
                if keeps && min(cache.capacity, target.positionLimit) - cache.length <= 0 {
                    rowStats.stopReason = .capacity
                    keeps = false
                }
                if keeps { slots.tokens[row] = token; continue }
                let index = owners[row]
                results[index].count = emitters[row].produced
                results[index].stopReason = rowStats.stopReason
                stats.generatedTokens += emitters[row].produced
                activeTokens -= inputs[index].count
                let last = active - 1
                slots.swap(row, last)
                emitters.swapAt(row, last)
                owners.swapAt(row, last)
                ready.swapAt(row, last)
                active -= 1
                finished += 1
            }
            return finished
        }

        while true {
            admit()
            // Sequences that finished free their slots for the queue before the next pass.
            if sampleReady() > 0 && next < inputs.count { continue }
            if active == 0 { break }
            target.stepEachSequence(count: active)
            stats.targetCalls += 1
            for row in 0..<active { ready[row] = true }
        }
        stats.prefillSeconds = encodeSeconds
        stats.decodeSeconds = Clock.now() - start - encodeSeconds
        return results
    }
}
