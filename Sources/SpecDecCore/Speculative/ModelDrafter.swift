/// A smaller autoregressive model of the same vocabulary drafts k tokens one by one.
/// Its own session keeps its cache; each proposal re-runs only what changed since the
/// last (the accepted tokens and the target's correction), found by prefix matching.
public final class ModelDrafter: Drafter {
    public let session: Session
    private var logits: [Float]
    private var q: [Float]
    private var sampler: Sampler
    private var history: [Int32] = []

    /// Fails loudly when the draft model cannot share the target's token ids.
    public init(model: any DecoderModel, target: ModelConfig, capacity: Int, threads: Int,
                backend: ArenaBackend = .automatic) throws(SpecDecError) {
        let c = model.config
        guard c.vocabSize == target.vocabSize else {
            throw .invalidArgument("incompatible vocabularies: the draft model has \(c.vocabSize) tokens, the target \(target.vocabSize)")
        }
        guard c.bosTokenId == target.bosTokenId, c.eosTokenIds == target.eosTokenIds else {
            throw .invalidArgument("incompatible vocabularies: the draft model's BOS/EOS ids (\(c.bosTokenId.map(String.init) ?? "none")/\(c.eosTokenIds)) differ from the target's (\(target.bosTokenId.map(String.init) ?? "none")/\(target.eosTokenIds))")
        }
        session = try Session(model: model, capacity: min(capacity, c.contextLength), threads: threads, backend: backend, maxBatch: 64)
        logits = [Float](repeating: 0, count: c.vocabSize)
        q = logits
        sampler = try Sampler(vocabSize: c.vocabSize, arena: try Arena(byteCount: Sampler.footprint(vocabSize: c.vocabSize), backend: .mmap))
    }

    public func begin(context: DraftContext) throws(SpecDecError) {
        sampler.reset(context.sampling)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        let k = min(maxTokens, session.capacity - context.tokens.count)
        guard k > 0 else { return }
        let vocab = session.config.vocabSize
        let sampled = context.wantsDistributions && !context.sampling.isGreedy
        if sampled { draft.distributions = []; draft.vocabSize = vocab }
        try logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in try session.prefill(context.tokens, logits: l.baseAddress!) }
        history.removeAll(keepingCapacity: true)
        history.append(contentsOf: context.tokens)
        for i in 0..<k {
            let token: Int32
            if sampled {
                token = logits.withUnsafeMutableBufferPointer { l in
                    q.withUnsafeMutableBufferPointer { qb in
                        history.withUnsafeBufferPointer { h in
                            sampler.distribution(l.baseAddress!, history: h.baseAddress!, historyCount: h.count, into: qb.baseAddress!)
                        }
                        return sampler.draw(from: qb.baseAddress!, count: vocab)
                    }
                }
                draft.distributions!.append(contentsOf: q)
            } else {
                token = Int32(logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress!, count: vocab) })
            }
            draft.appendChain(token)
            history.append(token)
            if i + 1 < k {
                try withUnsafePointer(to: token) { (t) throws(SpecDecError) in
                    try logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in
                        try session.evaluate(tokens: UnsafeBufferPointer(start: t, count: 1), logits: l.baseAddress!, rows: .last)
                    }
                }
            }
        }
    }
}
