/// Batched generation on a decoder-only model: each prompt is prefilled into a slot's
/// cache, then one pass per token runs the next token of every sequence.
extension Session: BatchDecodingTarget {
    var endTokenIds: [Int] { config.eosTokenIds }

    func validateBatchInput(_ input: UnsafeBufferPointer<Int32>) throws(SpecDecError) {
        guard input.count >= 1 else { throw .invalidArgument("the prompt must hold at least one token") }
        try validate(tokens: input, positions: nil)
        guard input.count <= cache.capacity, input.count <= config.contextLength else {
            throw .init(.capacity, "the prompt has \(input.count) tokens but the KV capacity is \(min(cache.capacity, config.contextLength))")
        }
    }

    /// Prefills each prompt into its slot's cache (at most `maxBatch` tokens a pass); the
    /// logits of its last token wait in the slot's row.
    func startSequences(_ starting: [Int], of inputs: [UnsafeBufferPointer<Int32>], queued: Int, firstSlot: Int) -> Bool {
        for (i, index) in starting.enumerated() { prefill(inputs[index], slot: firstSlot + i) }
        return true
    }

    private func prefill(_ input: UnsafeBufferPointer<Int32>, slot: Int) {
        let slots = slots!
        slots.caches[slot].truncate(to: 0)
        var offset = 0
        while offset < input.count {
            let n = min(maxBatch, input.count - offset)
            for i in 0..<n { positionScratch[i] = Int32(offset + i) }
            model.forward(tokens: input.baseAddress! + offset, positions: positionScratch, count: n, cache: &slots.caches[slot],
                          scratch: scratch, pool: pool, logits: offset + n == input.count ? slots.logits(slot) : nil,
                          rows: .last, batchMask: nil)
            offset += n
        }
    }

    func stepEachSequence(count: Int) {
        let slots = slots!
        for row in 0..<count { slots.positions[row] = Int32(slots.caches[row].length) }
        model.forwardEachSequence(tokens: slots.tokens, positions: slots.positions, count: count, caches: slots.caches,
                                  scratch: scratch, pool: pool, logits: slots.logits)
    }

    /// Continues every prompt (greedy or sampling per `options`): sequence i's tokens go to
    /// outputs[i · max(1, maxNewTokens) ...] and equal what `generate(prompt:)` gives for it
    /// alone (with `seeds[i]` as its seed when given). Up to `schedule.maxSequences` decode
    /// together (or, with `decodeAlone`, one after another through it); an invalid prompt fails alone, with its index in the message.
    public func generateBatch(prompts: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64]? = nil,
                              schedule: BatchSchedule, outputs: UnsafeMutablePointer<Int32>,
                              decodeAlone: BatchDecodeAlone? = nil) throws(SpecDecError) -> [BatchSequenceResult] {
        try runBatch(prompts, options: options, seeds: seeds, schedule: schedule, outputs: outputs,
                     vocabularyName: pass.vocabularyName, decodeAlone: decodeAlone) { i, options, output in
            generate(prompt: prompts[i], options: options, output: output) { _, _ in .proceed }
        }
    }
}
