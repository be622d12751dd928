/// The bookkeeping a batched call shares between its loops (plain, speculative): the queue
/// of inputs, the input each slot decodes, each slot's emitter, and the results. Slots
/// 0 ..< active decode; a sequence that finishes leaves and the last slot moves into its
/// place, so the decoding slots stay contiguous.
struct BatchRows {
    let inputs: [UnsafeBufferPointer<Int32>]
    let options: GenerationOptions
    let seeds: [UInt64]
    let schedule: BatchSchedule
    let outputs: UnsafeMutablePointer<Int32>
    let slots: SequenceSlots
    let limit: Int
    var results: [BatchSequenceResult]
    var emitters: [TokenEmitter] = []
    var owners: [Int]   // the input each slot decodes
    var ready: [Bool]   // logits in the slot's row wait to be used
    var active = 0, next = 0, activeTokens = 0
    var encodeSeconds = 0.0
    private var starting: [Int] = []

    init(inputs: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64], schedule: BatchSchedule,
         outputs: UnsafeMutablePointer<Int32>, slots: SequenceSlots) {
        self.inputs = inputs
        self.options = options
        self.seeds = seeds
        self.schedule = schedule
        self.outputs = outputs
        self.slots = slots
        limit = min(schedule.maxSequences, slots.count)
        results = [BatchSequenceResult](repeating: BatchSequenceResult(), count: inputs.count)
        emitters.reserveCapacity(limit)
        starting.reserveCapacity(limit)
        owners = [Int](repeating: -1, count: limit)
        ready = [Bool](repeating: false, count: limit)
    }

    var hasQueue: Bool { next < inputs.count }

    /// Fills free slots from the queue while the token budget allows, and starts the new
    /// sequences together (one encoder pass for all their sources). Returns the new slots.
    @discardableResult
    mutating func admit<Target: BatchDecodingTarget>(_ target: Target, stats: inout GenerationStats) -> Range<Int> {
        starting.removeAll(keepingCapacity: true)
        let first = active
        let width = max(1, options.maxNewTokens)
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
        guard !starting.isEmpty else { return first..<first }
        let began = Clock.now()
        let hasLogits = target.startSequences(starting, of: inputs, queued: next, firstSlot: first)
        for row in first..<active { ready[row] = hasLogits }
        encodeSeconds += Clock.now() - began
        return first..<active
    }

    /// Ends the sequence in `row` (its result: what its emitter produced, `reason`, `error`)
    /// and moves the last slot into its place; returns that last slot's old index.
    @discardableResult
    mutating func finish(_ row: Int, reason: StopReason, error: SpecDecError? = nil, stats: inout GenerationStats) -> Int {
        let index = owners[row]
        results[index].count = emitters[row].produced
        results[index].stopReason = reason
        results[index].error = error?.prefixed("sequence \(index)")
        stats.generatedTokens += emitters[row].produced
        activeTokens -= inputs[index].count
        let last = active - 1
        slots.swap(row, last)
        emitters.swapAt(row, last)
        owners.swapAt(row, last)
        ready.swapAt(row, last)
        active -= 1
        return last
    }

    /// Whether the sequence in `row` still has room for a token after the ones it holds.
    func hasRoom(_ row: Int, positionLimit: Int) -> Bool {
        let cache = slots.caches[row]
        return min(cache.capacity, positionLimit) - cache.length > 0
    }
}
