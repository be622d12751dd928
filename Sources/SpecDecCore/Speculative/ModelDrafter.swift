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
        try session.proposeChain(context, maxTokens: maxTokens, picker: &picker, into: &draft)
    }
}
