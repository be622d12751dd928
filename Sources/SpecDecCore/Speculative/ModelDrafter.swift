/// A smaller autoregressive model of the same vocabulary drafts k tokens one by one.
/// Its own session keeps its cache; each proposal re-runs only what changed since the
/// last (the accepted tokens and the target's correction), found by prefix matching.
public final class ModelDrafter: Drafter {
    public let session: Session
    private var picker: DraftTokenPicker

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
        picker = try DraftTokenPicker(vocabSize: c.vocabSize)
    }

    public func begin(context: DraftContext) throws(SpecDecError) {
        picker.begin(context.sampling)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        let k = min(maxTokens, session.capacity - context.tokens.count)
        guard k > 0 else { return }
        picker.start(context, draft: &draft)
        try picker.logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in try session.prefill(context.tokens, logits: l.baseAddress!) }
        for i in 0..<k {
            let token = picker.pick(into: &draft)
            if i + 1 < k {
                try withUnsafePointer(to: token) { (t) throws(SpecDecError) in
                    try picker.logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in
                        try session.evaluate(tokens: UnsafeBufferPointer(start: t, count: 1), logits: l.baseAddress!, rows: .last)
                    }
                }
            }
        }
    }
}
