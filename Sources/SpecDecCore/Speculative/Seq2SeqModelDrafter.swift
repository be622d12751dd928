/// A smaller encoder-decoder model of the same target vocabulary drafts for an
/// encoder-decoder target: it encodes the source once per request and decodes k tokens
/// greedily (or by sampling, reporting its distributions) after the verified prefix.
public final class Seq2SeqModelDrafter: Drafter {
    public let session: Seq2SeqSession
    private var picker: DraftTokenPicker

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
        picker = try DraftTokenPicker(vocabSize: c.vocabSize)
    }

    public func begin(context: DraftContext) throws(SpecDecError) {
        picker.begin(context.sampling)
        try session.setSource(context.source)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        let k = min(maxTokens, session.capacity - context.tokens.count)
        guard k > 0 else { return }
        picker.start(context, draft: &draft)
        // Keep the cached decoder prefix that still matches; run the rest.
        var common = 0
        let cached = session.length
        while common < min(cached, context.tokens.count - 1) && session.cache.tokens[common] == context.tokens[common] { common += 1 }
        try session.truncate(to: common)
        let rest = UnsafeBufferPointer(rebasing: context.tokens[common...])
        var offset = 0
        while offset < rest.count {
            let n = min(session.maxBatch, rest.count - offset)
            try picker.logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in
                try session.evaluate(tokens: UnsafeBufferPointer(rebasing: rest[offset..<(offset + n)]), positions: nil,
                                     logits: offset + n == rest.count ? l.baseAddress! : nil, rows: .last, batchMask: nil)
            }
            offset += n
        }
        for i in 0..<k {
            let token = picker.pick(into: &draft)
            if i + 1 < k {
                try withUnsafePointer(to: token) { (t) throws(SpecDecError) in
                    try picker.logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in
                        try session.evaluate(tokens: UnsafeBufferPointer(start: t, count: 1), positions: nil,
                                             logits: l.baseAddress!, rows: .last, batchMask: nil)
                    }
                }
            }
        }
    }
}
