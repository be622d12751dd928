#if canImport(Glibc)
import Glibc
#endif

/// Beam search as transformers 5.x runs it (GenerationMixin._beam_search, batch size 1),
/// in fp32 like it, so that outputs agree token for token:
/// - running scores start at [0, -1e9, ...]; each step adds log_softmax(logits) to each beam's
///   score and keeps the top K = max(2, 1 + end tokens) · beams continuations;
/// - a continuation "hits" when its token is an end token or the sequence reaches
///   1 + maxNewTokens tokens; the next running beams are the best `beams` non-hitting ones;
/// - hitting continuations ranked among the first `beams` are finished: score / length ** lp
///   (length = generated tokens, end token included), merged with the finished slots by score;
/// - the search stops when every continuation hits, when `earlyStopping` is `.whenBeamsFinished`
///   and all slots are finished, or when (heuristic) no running beam can beat the worst finished
///   slot any more.
/// tools/fixtures/seq2seq_beam_reference.py restates the same rules and is checked against
/// transformers when the fixtures are made.
extension Seq2SeqSession {
    /// Preallocates the beam-search workspace (otherwise made by the first `beamSearch`).
    public func reserveBeams(beamCount: Int, maxNewTokens: Int, endTokenCount: Int? = nil) throws(SpecDecError) {
        guard beamCount >= 1, beamCount <= maxBatch else { throw .invalidArgument("the number of beams must be in 1...\(maxBatch)") }
        guard maxNewTokens >= 1, maxNewTokens < min(capacity, config.contextLength) else {
            throw .invalidArgument("max_new_tokens must be in 1..<\(min(capacity, config.contextLength))")
        }
        guard (endTokenCount ?? 0) >= 0 else { throw .invalidArgument("endTokenCount must be >= 0") }
        let k = max(2, 1 + (endTokenCount ?? config.eosTokenIds.count)) * beamCount
        _ = try workspace(beams: beamCount, maxLength: 1 + maxNewTokens, candidates: k)
    }

    func workspace(beams: Int, maxLength: Int, candidates: Int) throws(SpecDecError) -> BeamWorkspace {
        if let ws = beamWorkspace, ws.fits(beams: beams, maxLength: maxLength, candidates: candidates) { return ws }
        beamWorkspace = nil
        let ws = try BeamWorkspace(beams: beams, maxLength: maxLength, candidates: candidates, config: config, backend: arena.backend)
        beamWorkspace = ws
        return ws
    }

    /// Checks beam-search arguments before any work.
    public func checkBeamSearchArguments(source: UnsafeBufferPointer<Int32>, options o: BeamSearchOptions) throws(SpecDecError) {
        try validate(source: source)
        guard o.beamCount >= 1 else { throw .invalidArgument("the number of beams must be >= 1 (got \(o.beamCount))") }
        guard o.beamCount <= maxBatch else {
            throw .init(.capacity, "\(o.beamCount) beams exceed the session's max_batch of \(maxBatch)")
        }
        guard o.returnCount >= 1, o.returnCount <= o.beamCount else {
            throw .invalidArgument("the number of returned sequences must be in 1...\(o.beamCount) (got \(o.returnCount))")
        }
        guard o.maxNewTokens >= 1 else { throw .invalidArgument("max_new_tokens must be >= 1 for beam search (got \(o.maxNewTokens))") }
        guard o.lengthPenalty.isFinite else { throw .invalidArgument("length_penalty must be finite") }
        guard 1 + o.maxNewTokens <= min(capacity, config.contextLength) else {
            throw .init(.capacity, "1 + \(o.maxNewTokens) decoder tokens exceed the decoder capacity of \(min(capacity, config.contextLength))")
        }
        for id in o.endTokens ?? [] where id < 0 || Int(id) >= config.vocabSize {
            throw .init(.tokenOutOfRange, "end token \(id) is outside the target vocabulary [0, \(config.vocabSize))")
        }
        let k = max(2, 1 + (o.endTokens?.count ?? config.eosTokenIds.count)) * o.beamCount
        guard k <= config.vocabSize else {
            throw .invalidArgument("\(o.beamCount) beams keep \(k) candidates per step, more than the vocabulary of \(config.vocabSize)")
        }
    }

    /// Beam search from `source`; returns the best `options.returnCount` hypotheses, best first.
    public func beamSearch(source: UnsafeBufferPointer<Int32>, options o: BeamSearchOptions) throws(SpecDecError) -> [BeamHypothesis] {
        try checkBeamSearchArguments(source: source, options: o)
        let endTokens = o.endTokens ?? config.eosTokenIds.map { Int32($0) }
        let beams = o.beamCount, maxLength = 1 + o.maxNewTokens, vocab = config.vocabSize
        let k = max(2, 1 + endTokens.count) * beams
        let ws = try workspace(beams: beams, maxLength: maxLength, candidates: k)
        stats = GenerationStats()
        stats.promptTokens = source.count
        let prefillStart = Clock.now()
        let runs = encoderRuns
        try setSource(source)
        if encoderRuns == runs { stats.reusedTokens = source.count }

        let lp = o.lengthPenalty
        func penalty(_ length: Int) -> Float { Float(pow(Double(length), lp)) }

        // The start token, once, in slot 0 of the shared cache; beam 0 is the only real one.
        ws.cache.truncate(to: 0)
        ws.stepTokens[0] = Int32(config.decoderStartTokenId)
        ws.stepPositions[0] = 0
        model.decode(tokens: ws.stepTokens, positions: ws.stepPositions, count: 1, cache: &ws.cache, memory: memory,
                     selfAttention: .sequence(batchMask: nil), scratch: scratch, pool: pool, logits: ws.logits, rows: .all)
        ws.start(beams: beams, startToken: Int32(config.decoderStartTokenId))
        var curLen = 1           // decoder tokens of every running beam, the start token included
        var rowsWithLogits = 1   // at the first step the other beams score -1e9 and cannot win
        var improvable = true    // transformers' is_early_stop_heuristic_unsatisfied
        let decodeStart = Clock.now()
        stats.prefillSeconds = decodeStart - prefillStart

        while true {
            ws.collectContinuations(rows: rowsWithLogits, vocab: vocab, k: k)
            let allHit = ws.chooseRunning(beams: beams, k: k, vocab: vocab, endTokens: endTokens, atLimit: curLen + 1 >= maxLength)
            let full = ws.everyFinished(beams: beams) && o.earlyStopping == .whenBeamsFinished
            ws.mergeFinished(beams: beams, k: k, vocab: vocab, length: curLen, denominator: penalty(curLen),
                             closed: full || !improvable)
            ws.advanceRunning(beams: beams, vocab: vocab, length: curLen)
            curLen += 1
            stats.generatedTokens = curLen - 1

            let bestLength = o.earlyStopping == .never && lp > 0 ? maxLength - 1 : curLen - 1
            improvable = improvable && ws.runningCanImprove(beams: beams, bestPossible: ws.runningScores[0] / penalty(bestLength))
            if !improvable || (o.earlyStopping == .whenBeamsFinished && ws.everyFinished(beams: beams)) || allHit { break }

            // The next decoder pass: each beam's newest token, attending to its own slots.
            let firstSlot = ws.cache.length
            for j in 0..<beams {
                ws.stepTokens[j] = ws.sequence(ws.running, j)[curLen - 1]
                ws.stepPositions[j] = Int32(curLen - 1)
                ws.historyLengths[j] = Int32(curLen - 1)
            }
            model.decode(tokens: ws.stepTokens, positions: ws.stepPositions, count: beams, cache: &ws.cache, memory: memory,
                         selfAttention: .gathered(history: ws.slots(ws.running, 0), stride: ws.maxLength, lengths: ws.historyLengths),
                         scratch: scratch, pool: pool, logits: ws.logits, rows: .all)
            for j in 0..<beams { ws.slots(ws.running, j)[curLen - 1] = Int32(firstSlot + j) }
            rowsWithLogits = beams
        }
        stats.decodeSeconds = Clock.now() - decodeStart

        let result = ws.hypotheses(beams: beams, count: o.returnCount, endTokens: endTokens)
        if let best = result.first {
            stats.generatedTokens = best.tokens.count
            stats.stopReason = best.endedWithEndToken ? .stopToken : .maxTokens
        }
        return result
    }

    public func beamSearch(source: [Int32], options: BeamSearchOptions) throws(SpecDecError) -> [BeamHypothesis] {
        try source.withUnsafeBufferPointer { (s) throws(SpecDecError) in try beamSearch(source: s, options: options) }
    }
}
