import SpecDecCore

/// Sentences through greedy decoding or SpecDec (batched when a schedule is given), beam
/// search or speculative decoding, with the drafter made once and reused for every sentence.
struct SentenceTranslator {
    let session: Seq2SeqSession
    let options: GenerationOptions
    let beamOptions: BeamSearchOptions?
    let speculative: (drafter: Drafter, rule: AcceptanceRule, options: SpeculativeOptions)?

    init(session: Seq2SeqSession, speculation: SpeculationOptions, load: LoadOptions, beams: Int, lengthPenalty: Double,
         maxNewTokens: Int) throws {
        self.session = session
        let limit = min(maxNewTokens, min(session.capacity, session.config.contextLength) - 1)
        var options = GenerationOptions()
        options.maxNewTokens = limit
        self.options = options
        if beams > 1 {
            var beam = BeamSearchOptions()
            beam.beamCount = beams
            beam.maxNewTokens = limit
            beam.lengthPenalty = lengthPenalty
            beam.endTokens = session.config.eosTokenIds.map { Int32($0) }
            beamOptions = beam
        } else {
            beamOptions = nil
        }
        if speculation.isSpeculative {
            let (rule, spec) = try speculation.settings(sampling: options.sampling)
            speculative = (try speculation.seq2seqDrafter(for: session, load: load), rule, spec)
        } else {
            speculative = nil
        }
    }

    /// Each source's tokens and statistics (in a batch, only the token count is its own),
    /// or the error that failed it.
    func translate(_ sources: [[Int32]], schedule: BatchSchedule?) -> [Result<([Int32], GenerationStats), Error>] {
        guard let schedule else {
            return sources.map { source in Result { (try translate(source), session.stats) } }
        }
        let width = max(1, options.maxNewTokens)
        var outputs = [Int32](repeating: 0, count: sources.count * width)
        do {
            let results = try sources.withUnsafeBufferPointers { inputs in
                try outputs.withUnsafeMutableBufferPointer { out in
                    if let speculative,
                       let speculation = BatchSpeculation(drafter: speculative.drafter, rule: speculative.rule,
                                                          speculative: speculative.options) {
                        return try session.generateSpeculativeBatch(sources: inputs, options: options, schedule: schedule,
                                                                    speculation: speculation, outputs: out.baseAddress!)
                    }
                    return try session.generateBatch(sources: inputs, options: options, schedule: schedule, outputs: out.baseAddress!)
                }
            }
            return results.enumerated().map { i, r in
                if let error = r.error { return .failure(error) }
                var stats = GenerationStats()
                stats.generatedTokens = r.count
                stats.stopReason = r.stopReason
                return .success((Array(outputs[(i * width)..<(i * width + r.count)]), stats))
            }
        } catch {
            return sources.map { _ in .failure(error) }
        }
    }

    func translate(_ source: [Int32]) throws -> [Int32] {
        if let beamOptions { return try session.beamSearch(source: source, options: beamOptions).first?.tokens ?? [] }
        if let speculative {
            return try session.generateSpeculative(source: source, options: options, speculative: speculative.options,
                                                   drafter: speculative.drafter, rule: speculative.rule)
        }
        return try session.generate(source: source, options: options)
    }
}
