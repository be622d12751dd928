/// Batched translation: many sources per call, one decoder pass per token (or per
/// speculative round) for all of them.
extension Seq2SeqSession: BatchVerifyingTarget {
    var sourceSharesTargetVocabulary: Bool { config.sharedEmbeddings }

    var endTokenIds: [Int] { config.eosTokenIds }

    func validateBatchInput(_ input: UnsafeBufferPointer<Int32>) throws(SpecDecError) { try validate(source: input) }

    /// Encodes the sources into their slots' cross-attention memories, as many per encoder
    /// pass as the scratch rows hold; each first decoder token is the start token, run with
    /// the next pass. A source encoded ahead (staged) only moves into its slot. When the
    /// encoder must run, it also encodes queued sources into the free staging memories: a
    /// sequence that finishes mid-batch is then replaced without an encoder pass of one
    /// source, whose cost is mostly streaming the encoder's weights.
    func startSequences(_ starting: [Int], of inputs: [UnsafeBufferPointer<Int32>], queued: Int, firstSlot: Int) -> Bool {
        let slots = slots!
        var segments: [EncoderSegment] = []
        for (i, index) in starting.enumerated() {
            let slot = firstSlot + i
            if !slots.takeStaged(index, into: slot) {
                segments.append(EncoderSegment(source: inputs[index], memory: slots.memories! + slot))
            }
            slots.caches[slot].truncate(to: 0)
            slots.tokens[slot] = Int32(config.decoderStartTokenId)
        }
        guard !segments.isEmpty else { return false }
        var ahead = queued
        while ahead < inputs.count && slots.isStaged(ahead) { ahead += 1 }
        while ahead < inputs.count, let memory = slots.freeStagingMemory(for: ahead) {
            if (try? validate(source: inputs[ahead])) != nil {
                segments.append(EncoderSegment(source: inputs[ahead], memory: memory))
                slots.stage(ahead)
            }
            ahead += 1
        }
        var group: [EncoderSegment] = []
        var rows = 0
        for segment in segments {
            if rows + segment.source.count > scratch.rows {
                model.encode(group, scratch: scratch, pool: pool)
                group.removeAll(keepingCapacity: true)
                rows = 0
            }
            group.append(segment)
            rows += segment.source.count
        }
        model.encode(group, scratch: scratch, pool: pool)
        encoderRuns += segments.count
        return false
    }

    func stepEachSequence(count: Int) {
        let slots = slots!
        for row in 0..<count { slots.positions[row] = Int32(slots.caches[row].length) }
        model.decodeEachSequence(tokens: slots.tokens, positions: slots.positions, count: count, caches: slots.caches,
                                 memories: slots.memories!, scratch: scratch, pool: pool, logits: slots.logits)
    }

    func verifyEachSequence(firstSlot: Int, tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, rows: Int,
                            groups: SequenceRowGroups, logits: UnsafeMutablePointer<Float>) {
        let slots = slots!
        model.decodeSequenceGroups(tokens: tokens, positions: positions, count: rows, groups: groups, caches: slots.caches + firstSlot,
                                   memories: slots.memories! + firstSlot, scratch: scratch, pool: pool, logits: logits)
    }

    /// Translates every source (greedy or sampling per `options`): sequence i's tokens go to
    /// outputs[i · max(1, maxNewTokens) ...], and equal what `generate(source:)` gives for it
    /// alone (with `seeds[i]` as its seed when given). Up to `schedule.maxSequences` decode
    /// together (or, with `decodeAlone`, one after another through it); an invalid source fails alone, with its index in the message.
    public func generateBatch(sources: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64]? = nil,
                              schedule: BatchSchedule, outputs: UnsafeMutablePointer<Int32>,
                              decodeAlone: BatchDecodeAlone? = nil) throws(SpecDecError) -> [BatchSequenceResult] {
        try runBatch(sources, options: options, seeds: seeds, schedule: schedule, outputs: outputs,
                     vocabularyName: pass.vocabularyName, decodeAlone: decodeAlone) { i, options, output in
            generate(source: sources[i], options: options, output: output) { _, _ in .proceed }
        }
    }

    /// Translates every source speculatively with one drafter for all of them: each round
    /// drafts for every sequence in one drafter call and verifies every draft in one decoder
    /// pass (as few as the rows fit in). Sequence i's tokens equal what `generateSpeculative`
    /// gives for it alone with the same drafter and rule (with `seeds[i]` as its seed when
    /// given); with one sequence per batch the call is that, one source after another.
    public func generateSpeculativeBatch(sources: [UnsafeBufferPointer<Int32>], options: GenerationOptions, seeds: [UInt64]? = nil,
                                         schedule: BatchSchedule, speculation: BatchSpeculation,
                                         outputs: UnsafeMutablePointer<Int32>) throws(SpecDecError) -> [BatchSequenceResult] {
        guard speculation.draftLength >= 0 else {
            throw .invalidArgument("draft length must be >= 0 (got \(speculation.draftLength))")
        }
        return try runBatch(sources, options: options, seeds: seeds, schedule: schedule, outputs: outputs,
                            vocabularyName: pass.vocabularyName, decodeAlone: nil,
                            batched: { (seeds, stats) throws(SpecDecError) in
                                try BatchSpeculativeLoop.run(self, inputs: sources, options: options, seeds: seeds, schedule: schedule,
                                                             speculation: speculation, outputs: outputs, stats: &stats)
                            }) { i, options, output in
            var speculative = SpeculativeOptions()
            speculative.draftLength = speculation.draftLength
            return generateSpeculative(source: sources[i], options: options, speculative: speculative, drafter: speculation.drafter,
                                       rule: speculation.rule, output: output) { _, _ in .proceed }
        }
    }
}
