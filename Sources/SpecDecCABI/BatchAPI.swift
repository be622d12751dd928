import CSpecDecABI
import SpecDecCore

@_cdecl("specdec_batch_default_params")
public func specdec_batch_default_params() -> specdec_batch_params_t {
    var p = specdec_batch_params_t()
    p.struct_size = UInt32(MemoryLayout<specdec_batch_params_t>.size)
    p.batch_size = 0
    p.batch_tokens = 0
    p.seeds = nil
    return p
}

/// The caller's n inputs as buffers, every pointer checked (a NULL one is an empty input,
/// which fails alone as an empty sequence does).
private func batchInputs(_ inputs: UnsafePointer<UnsafePointer<Int32>?>?, _ lengths: UnsafePointer<Int32>?,
                         _ n: Int32, name: String) throws(SpecDecError) -> [UnsafeBufferPointer<Int32>] {
    guard n >= 1 else { throw .invalidArgument("the batch is empty: n_\(name) must be >= 1 (got \(n))") }
    guard let inputs, let lengths else { throw .invalidArgument("\(name) and their lengths must not be NULL") }
    return try (0..<Int(n)).map { (i) throws(SpecDecError) in
        guard lengths[i] >= 0 else { throw .invalidArgument("sequence \(i): length \(lengths[i]) is negative") }
        guard let input = inputs[i] else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: input, count: Int(lengths[i]))
    }
}

/// Writes each sequence's status and returns the first failure (SPECDEC_OK when none).
private func reportSequences(_ errors: [SpecDecError?], statuses: UnsafeMutablePointer<Int32>?) throws(SpecDecError) {
    for (i, error) in errors.enumerated() { statuses?[i] = error?.kind.rawValue ?? SPECDEC_OK }
    if let first = errors.lazy.compactMap({ $0 }).first { throw first }
}

/// The batched speculation `spec` asks for on an encoder-decoder session: SpecDec's
/// Spec-Drafter at a fixed draft length (nil for every other request, which runs one
/// sequence after another).
private func batchSpeculation(_ handle: SessionHandle, _ spec: UnsafePointer<specdec_speculative_params_t>?)
    throws(SpecDecError) -> BatchSpeculation? {
    guard spec != nil, case .seq2seq = handle.engine else { return nil }
    let p = try readParams(spec, defaults: specdec_speculative_default_params(), name: "specdec_speculative_params_t")
    guard p.drafter == SPECDEC_DRAFTER_SPECDEC else { return nil }
    guard let draftModel = p.draft_model else { throw .invalidArgument("SPECDEC_DRAFTER_SPECDEC needs a Spec-Drafter as draft_model") }
    let options = try speculativeOptions(p)
    let drafter = try handle.specDecDrafter(for: ModelHandle.from(draftModel), draftLength: options.draftLength)
    return BatchSpeculation(drafter: drafter, rule: try acceptanceRule(p), speculative: options)
}

@_cdecl("specdec_generate_batch")
public func specdec_generate_batch(_ session: OpaquePointer?, _ inputs: UnsafePointer<UnsafePointer<Int32>?>?,
                                   _ inputLengths: UnsafePointer<Int32>?, _ nInputs: Int32,
                                   _ params: UnsafePointer<specdec_generate_params_t>?,
                                   _ spec: UnsafePointer<specdec_speculative_params_t>?,
                                   _ batch: UnsafePointer<specdec_batch_params_t>?,
                                   _ outTokens: UnsafeMutablePointer<Int32>?, _ outCap: Int32,
                                   _ outLengths: UnsafeMutablePointer<Int32>?, _ outStopReasons: UnsafeMutablePointer<Int32>?,
                                   _ outStatuses: UnsafeMutablePointer<Int32>?) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        let sequences = try batchInputs(inputs, inputLengths, nInputs, name: "inputs")
        guard let outLengths else { throw .invalidArgument("out_lengths must not be NULL") }
        for i in 0..<sequences.count { outLengths[i] = 0 }
        let perSequence = try generationOptions(params)
        guard Int(outCap) >= sequences.count * perSequence.maxNewTokens else {
            throw .init(.bufferTooSmall, "out_tokens holds \(outCap) ids but \(sequences.count) sequences of max_new_tokens \(perSequence.maxNewTokens) need \(sequences.count * perSequence.maxNewTokens)")
        }
        guard let outTokens else { throw .invalidArgument("out_tokens must not be NULL") }
        if streamingCallback(params) != nil {
            throw .invalidArgument("batch calls stream nothing: params->callback must be NULL")
        }
        let b = try readParams(batch, defaults: specdec_batch_default_params(), name: "specdec_batch_params_t")
        let seeds = b.seeds.map { Array(UnsafeBufferPointer(start: $0, count: sequences.count)) }
        let schedule = BatchSchedule(maxSequences: b.batch_size == 0 ? handle.maxSequences : Int(b.batch_size),
                                     maxTokens: Int(b.batch_tokens))
        let claimed = try claimCustomDrafter(spec)
        defer { claimed?.release() }
        let results: [BatchSequenceResult]
        if let speculation = try batchSpeculation(handle, spec), case .seq2seq(let s) = handle.engine {
            // SpecDec: one Spec-Drafter pass drafts for every sequence, one decoder pass verifies.
            results = try s.generateSpeculativeBatch(sources: sequences, options: perSequence, seeds: seeds, schedule: schedule,
                                                     speculation: speculation, outputs: outTokens)
        } else {
            // The other drafters keep one request's state: each sequence runs alone through them.
            var decodeAlone: BatchDecodeAlone?
            if spec != nil {
                decodeAlone = { i, options, output in
                    do throws(SpecDecError) {
                        switch handle.engine {
                        case .decoder:
                            return try runGeneration(handle, prompt: sequences[i], options: options, spec: spec, output: output) { _, _ in .proceed }
                        case .seq2seq:
                            return try runSeq2Seq(handle, source: sequences[i], prefix: UnsafeBufferPointer(start: nil, count: 0),
                                                  options: options, spec: spec, output: output) { _, _ in .proceed }
                        }
                    } catch {
                        return GenerationResult(count: 0, error: error)
                    }
                }
            }
            switch handle.engine {
            case .decoder(let s):
                results = try s.generateBatch(prompts: sequences, options: perSequence, seeds: seeds, schedule: schedule,
                                              outputs: outTokens, decodeAlone: decodeAlone)
            case .seq2seq(let s):
                results = try s.generateBatch(sources: sequences, options: perSequence, seeds: seeds, schedule: schedule,
                                              outputs: outTokens, decodeAlone: decodeAlone)
            }
        }
        try? handle.truncate(to: 0)
        for (i, r) in results.enumerated() {
            outLengths[i] = Int32(r.count)
            outStopReasons?[i] = r.stopReason.rawValue
        }
        try reportSequences(results.map(\.error), statuses: outStatuses)
    }
}

@_cdecl("specdec_beam_search_batch")
public func specdec_beam_search_batch(_ session: OpaquePointer?, _ sources: UnsafePointer<UnsafePointer<Int32>?>?,
                                      _ sourceLengths: UnsafePointer<Int32>?, _ nSources: Int32,
                                      _ params: UnsafePointer<specdec_beam_params_t>?,
                                      _ outTokens: UnsafeMutablePointer<Int32>?, _ outLengths: UnsafeMutablePointer<Int32>?,
                                      _ outScores: UnsafeMutablePointer<Float>?, _ outEnded: UnsafeMutablePointer<Int32>?,
                                      _ outCounts: UnsafeMutablePointer<Int32>?, _ outStatuses: UnsafeMutablePointer<Int32>?) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        let sequences = try batchInputs(sources, sourceLengths, nSources, name: "sources")
        guard let outCounts else { throw .invalidArgument("out_n_hypotheses must not be NULL") }
        for i in 0..<sequences.count { outCounts[i] = 0 }
        guard let outTokens, let outLengths, let outScores, let outEnded else {
            throw .invalidArgument("out_tokens, out_lengths, out_scores and out_ended_with_eos must not be NULL")
        }
        let options = try beamSearchOptions(params)
        let session = try handle.seq2seqSession()
        let width = options.maxNewTokens, stride = options.returnCount
        var errors: [SpecDecError?] = []
        for (i, source) in sequences.enumerated() {
            do throws(SpecDecError) {
                let hypotheses = try session.beamSearch(source: source, options: options)
                for (j, h) in hypotheses.enumerated() {
                    let slot = i * stride + j, n = min(width, h.tokens.count)
                    for k in 0..<n { outTokens[slot * width + k] = h.tokens[k] }
                    outLengths[slot] = Int32(n)
                    outScores[slot] = Float(h.score)
                    outEnded[slot] = h.endedWithEndToken ? 1 : 0
                }
                outCounts[i] = Int32(hypotheses.count)
                errors.append(nil)
            } catch {
                errors.append(error.prefixed("sequence \(i)"))
            }
        }
        try reportSequences(errors, statuses: outStatuses)
    }
}
