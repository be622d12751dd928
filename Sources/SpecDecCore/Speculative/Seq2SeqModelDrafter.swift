/// A smaller encoder-decoder model of the same target vocabulary drafts for an
/// encoder-decoder target: it encodes the source once per request and decodes k tokens
/// greedily (or by sampling, reporting its distributions) after the verified prefix.
public final class Seq2SeqModelDrafter: Drafter {
    public let session: Seq2SeqSession
    private var logits: [Float]
    private var q: [Float]
    private var sampler: Sampler
    private var history: [Int32] = []

    /// Fails loudly when the draft model cannot share the target's token ids.
    public init(model: EncoderDecoderModel, target: EncoderDecoderConfig, capacity: Int, threads: Int,
                backend: ArenaBackend = .automatic) throws(SpecDecError) {
        let c = model.config
        guard c.vocabSize == target.vocabSize, c.sourceVocabSize == target.sourceVocabSize else {
            throw .invalidArgument("incompatible vocabularies: the draft model has \(c.sourceVocabSize)/\(c.vocabSize) source/target tokens, the target \(target.sourceVocabSize)/\(target.vocabSize)")
        }
        guard c.decoderStartTokenId == target.decoderStartTokenId, c.eosTokenIds == target.eosTokenIds else {
            throw .invalidArgument("incompatible vocabularies: the draft model's decoder start/EOS ids (\(c.decoderStartTokenId)/\(c.eosTokenIds)) differ from the target's (\(target.decoderStartTokenId)/\(target.eosTokenIds))")
        }
        session = try Seq2SeqSession(model: model, capacity: min(capacity, c.contextLength), threads: threads, backend: backend)
        logits = [Float](repeating: 0, count: c.vocabSize)
        q = logits
        sampler = try Sampler(vocabSize: c.vocabSize, arena: try Arena(byteCount: Sampler.footprint(vocabSize: c.vocabSize), backend: .mmap))
    }

    public func begin(context: DraftContext) throws(SpecDecError) {
        sampler.reset(context.sampling)
        try session.setSource(context.source)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        let k = min(maxTokens, session.capacity - context.tokens.count)
        guard k > 0 else { return }
        let vocab = session.config.vocabSize
        let sampled = context.wantsDistributions && !context.sampling.isGreedy
        if sampled { draft.distributions = []; draft.vocabSize = vocab }
        // Keep the cached decoder prefix that still matches; run the rest.
        var common = 0
        let cached = session.length
        while common < min(cached, context.tokens.count - 1) && session.cache.tokens[common] == context.tokens[common] { common += 1 }
        try session.truncate(to: common)
        let rest = UnsafeBufferPointer(rebasing: context.tokens[common...])
        var offset = 0
        while offset < rest.count {
            let n = min(session.maxBatch, rest.count - offset)
            try logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in
                try session.evaluate(tokens: UnsafeBufferPointer(rebasing: rest[offset..<(offset + n)]), positions: nil,
                                     logits: offset + n == rest.count ? l.baseAddress! : nil, rows: .last, batchMask: nil)
            }
            offset += n
        }
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
                        try session.evaluate(tokens: UnsafeBufferPointer(start: t, count: 1), positions: nil,
                                             logits: l.baseAddress!, rows: .last, batchMask: nil)
                    }
                }
            }
        }
    }
}
