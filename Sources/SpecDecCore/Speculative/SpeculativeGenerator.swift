/// Settings of a speculative request besides the sampling ones.
public struct SpeculativeOptions {
    /// Most draft nodes per round; 0 means plain decoding.
    public var draftLength = 5
    /// Adapt the draft length to acceptance, and fall back to plain steps when measured
    /// time per token says speculation does not pay.
    public var adaptive = false

    public init() {}
}

/// The speculative loop: draft, score the draft in one target pass, accept a prefix (or
/// a tree path), append the target's own next token, repeat. It works with any drafter,
/// verifier and acceptance rule; with exact greedy acceptance (or SpecDec's β = 1) its
/// output is plain greedy decoding's, and with speculative sampling it follows the
/// target's sampling distribution.
public final class SpeculativeGenerator {
    public let verifier: Verifier
    public let drafter: Drafter
    public var rule: AcceptanceRule
    public private(set) var stats = GenerationStats()
    private var sampler: Sampler
    private let vocab: Int
    private let arena: Arena
    private let logits: UnsafeMutablePointer<Float>
    private let rowCapacity: Int
    private var sequence: [Int32] = []

    /// - maxDraftTokens: the largest draft the loop will score (sizes its logit buffer).
    public init(verifier: Verifier, drafter: Drafter, rule: AcceptanceRule, maxDraftTokens: Int) throws(SpecDecError) {
        self.verifier = verifier
        self.drafter = drafter
        self.rule = rule
        vocab = verifier.vocabSize
        rowCapacity = max(1, maxDraftTokens + 1)
        arena = try Arena(byteCount: Arena.footprint(Float.self, count: rowCapacity * vocab) + Sampler.footprint(vocabSize: vocab),
                          backend: .automatic)
        logits = try arena.allocate(Float.self, count: rowCapacity * vocab)
        sampler = try Sampler(vocabSize: vocab, arena: arena)
    }

    /// Generates into `output` (room for options.maxNewTokens ids). `source` is the
    /// encoder input of an encoder-decoder target (drafters may use it);
    /// `sourceSharesTargetVocabulary`: its ids are target ids too.
    public func generate(prompt: UnsafeBufferPointer<Int32>, source: UnsafeBufferPointer<Int32> = .init(start: nil, count: 0),
                         sourceSharesTargetVocabulary: Bool = true,
                         options: GenerationOptions, speculative: SpeculativeOptions, eosTokenIds: [Int],
                         output: UnsafeMutablePointer<Int32>,
                         onToken: (_ token: Int32, _ index: Int) -> TokenAction) -> GenerationResult {
        stats = GenerationStats()
        stats.promptTokens = prompt.count
        guard prompt.count >= 1 else { return .init(count: 0, error: .invalidArgument("the prompt must hold at least one token")) }
        guard options.maxNewTokens >= 0 else { return .init(count: 0, error: .invalidArgument("max_new_tokens must be >= 0")) }
        guard speculative.draftLength >= 0 else {
            return .init(count: 0, error: .invalidArgument("draft length must be >= 0 (got \(speculative.draftLength))"))
        }
        do { try options.sampling.validate() } catch { return .init(count: 0, error: error) }
        for (i, id) in prompt.enumerated() where id < 0 || Int(id) >= vocab {
            return .init(count: 0, error: .init(.tokenOutOfRange, "token id \(id) at index \(i) is outside the vocabulary [0, \(vocab))"))
        }
        sampler.reset(options.sampling)
        sequence.removeAll(keepingCapacity: true)
        sequence.append(contentsOf: prompt)

        let prefillStart = Clock.now()
        do { try verifier.prefill(prompt, logits: logits) } catch { stats.stopReason = .error; return .init(count: 0, error: error) }
        let decodeStart = Clock.now()
        stats.prefillSeconds = decodeStart - prefillStart
        if options.maxNewTokens == 0 { stats.stopReason = .maxTokens; return .init(count: 0, error: nil) }

        var emitter = TokenEmitter(output: output, options: options, endTokenIds: eosTokenIds)
        var schedule = AdaptiveDraftLength(maximum: min(speculative.draftLength, rowCapacity - 1), adaptive: speculative.adaptive)
        var draft = Draft()
        draft.vocabSize = vocab
        let wantsDistributions = !rule.acceptsTrees
        stats.stopReason = .maxTokens
        defer { stats.decodeSeconds = Clock.now() - decodeStart }

        /// Appends one token to the output and the history; false when generation must end.
        func emit(_ token: Int32) -> Bool {
            sequence.append(token)
            return emitter.emit(token, stats: &stats, onToken: onToken)
        }

        // The first token comes from the prefill's logits, exactly as in plain decoding.
        var pending: Int32 = sequence.withUnsafeBufferPointer { sampler.sample(logits, history: $0.baseAddress!, historyCount: $0.count) }
        guard emit(pending) else { return emitter.result }
        do {
            try sequence.withUnsafeBufferPointer { (s) throws(SpecDecError) in
                try drafter.begin(context: DraftContext(tokens: s, promptLength: prompt.count, source: source,
                                                        sourceSharesTargetVocabulary: sourceSharesTargetVocabulary,
                                                        sampling: options.sampling, wantsDistributions: wantsDistributions, vocabSize: vocab))
            }
        } catch {
            stats.stopReason = .error
            return GenerationResult(count: emitter.produced, error: error)
        }

        while true {
            guard verifier.remainingCapacity >= 1 else {
                stats.stopReason = .capacity
                break
            }
            let roundStart = Clock.now()
            let room = min(schedule.next(), verifier.maxDraftTokens, options.maxNewTokens - emitter.produced - 1)
            draft.removeAll()
            draft.vocabSize = vocab
            if room > 0 {
                do {
                    try sequence.withUnsafeBufferPointer { (s) throws(SpecDecError) in
                        try drafter.propose(context: DraftContext(tokens: s, promptLength: prompt.count, source: source,
                                                                  sourceSharesTargetVocabulary: sourceSharesTargetVocabulary,
                                                                  sampling: options.sampling, wantsDistributions: wantsDistributions, vocabSize: vocab),
                                            maxTokens: room, into: &draft)
                    }
                } catch {
                    emitter.failure = error
                    stats.stopReason = .error
                    break
                }
                if let problem = draft.problem(vocabSize: vocab, maxTokens: room) {
                    emitter.failure = .init(.callback, problem)
                    stats.stopReason = .error
                    break
                }
                if !rule.acceptsTrees && !draft.isChain { draft = draft.firstChain() }
            }
            let verifyStart = Clock.now()
            stats.draftSeconds += verifyStart - roundStart
            do { try verifier.score(pending: pending, draft: draft, logits: logits) } catch {
                emitter.failure = error
                stats.stopReason = .error
                break
            }
            stats.targetCalls += 1
            let sampleStart = Clock.now()
            stats.verifySeconds += sampleStart - verifyStart
            let outcome = rule.accept(draft, AcceptanceInput(logits: logits, vocabSize: vocab, history: sequence), sampler: &sampler)
            stats.sampleSeconds += Clock.now() - sampleStart
            do { try verifier.commit(path: outcome.path, of: draft) } catch {
                emitter.failure = error
                stats.stopReason = .error
                break
            }
            drafter.accepted(path: outcome.path, of: draft, next: outcome.next)
            let (goOn, emittedDrafts) = outcome.emit(of: draft, emit)
            stats.recordDraft(draft, accepted: emittedDrafts)
            schedule.record(drafted: draft.count, accepted: outcome.path.count, produced: outcome.path.count + 1,
                            seconds: Clock.now() - roundStart)
            pending = outcome.next
            if !goOn { break }
        }
        return emitter.result
    }
}
