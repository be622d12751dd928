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
        try session.proposeChain(context, maxTokens: maxTokens, picker: &picker, into: &draft)
    }
}
