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
    /// A batch call on either kind of session: checks, then the batched loop (`batched`,
    /// else plain decoding's), or one sequence after another (`decodeAlone`, else `alone`:
    /// the session's one-sequence call) when the session holds one sequence or the decoding
    /// has no batched pass.
    func runBatch(_ inputs: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64]?, schedule: BatchSchedule,
                  outputs: UnsafeMutablePointer<Int32>, vocabularyName: String, decodeAlone: BatchDecodeAlone?,
                  batched: BatchLoop? = nil, alone: BatchDecodeAlone) throws(SpecDecError) -> [BatchSequenceResult] {
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
        if let batched { return try batched(seeds, &batchStats) }
        return BatchDecodingLoop.run(self, inputs: inputs, options: options, seeds: seeds, schedule: schedule,
                                     outputs: outputs, stats: &batchStats)
    }
}

/// A batched loop other than plain decoding's, given the seeds and the call's statistics.
typealias BatchLoop = (_ seeds: [UInt64], _ stats: inout GenerationStats) throws(SpecDecError) -> [BatchSequenceResult]

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
        guard let slots = target.slots else { return [BatchSequenceResult](repeating: BatchSequenceResult(), count: inputs.count) }
        var rows = BatchRows(inputs: inputs, options: options, seeds: seeds, schedule: schedule, outputs: outputs, slots: slots)
        let start = Clock.now()

        // Samples every row with fresh logits; rows that finish leave (the last row moves
        // into their place; it was already sampled, going backwards).
        func sampleReady() -> Int {
            var finished = 0
            for row in stride(from: rows.active - 1, through: 0, by: -1) where rows.ready[row] {
                rows.ready[row] = false
                let cache = slots.caches[row]
                let token = slots.samplers[row].sample(slots.logits(row), history: cache.tokens, historyCount: cache.length)
                var rowStats = GenerationStats()
                rowStats.stopReason = .maxTokens
                var keeps = rows.emitters[row].emit(token, stats: &rowStats) { _, _ in .proceed }
                if keeps && !rows.hasRoom(row, positionLimit: target.positionLimit) {
                    rowStats.stopReason = .capacity
                    keeps = false
                }
                if keeps { slots.tokens[row] = token; continue }
                rows.finish(row, reason: rowStats.stopReason, stats: &stats)
                finished += 1
            }
            return finished
        }

        while true {
            rows.admit(target, stats: &stats)
            // Sequences that finished free their slots for the queue before the next pass.
            if sampleReady() > 0 && rows.hasQueue { continue }
            if rows.active == 0 { break }
            target.stepEachSequence(count: rows.active)
            stats.targetCalls += 1
            for row in 0..<rows.active { rows.ready[row] = true }
        }
        stats.prefillSeconds = rows.encodeSeconds
        stats.decodeSeconds = Clock.now() - start - rows.encodeSeconds
        return rows.results
    }
}
