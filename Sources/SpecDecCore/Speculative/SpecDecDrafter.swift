/// SpecDec's drafter for an encoder-decoder target: the Spec-Drafter encodes the source
/// once per request and, each round, fills its k mask slots after the verified prefix in
/// one pass; the slots' argmax tokens are the draft (accepted by Spec-Verification,
/// `TopBetaToleranceAcceptance`, or any other rule).
public final class SpecDecDrafter: Drafter {
    public let model: SpecDrafterModel
    private var encoded: SpecDrafterModel.EncodedSource?
    private let pool: ThreadPool?

    /// - requestedLength: the draft length asked for; it must be the k the drafter was
    ///   trained with (its mask slots are positional).
    /// - pool: threads for the drafter's projections, usually the target session's pool
    ///   (drafting and verifying never run at the same time).
    public init(model: SpecDrafterModel, target: EncoderDecoderConfig, requestedLength: Int, pool: ThreadPool? = nil) throws(SpecDecError) {
        let c = model.config
        guard requestedLength == c.blockSize else {
            throw .invalidArgument("the Spec-Drafter was trained for k = \(c.blockSize) draft tokens; \(requestedLength) were requested")
        }
        guard c.vocabSize == target.vocabSize, c.vocabSize == target.sourceVocabSize else {
            throw .invalidArgument("incompatible vocabularies: the Spec-Drafter has \(c.vocabSize) tokens, the target \(target.sourceVocabSize) source / \(target.vocabSize) target tokens")
        }
        self.model = model
        self.pool = pool
    }

    public func begin(context: DraftContext) throws(SpecDecError) {
        encoded = try model.encode(Array(context.source), pool: pool)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        guard maxTokens > 0, let encoded else { return }
        // The decoder input after the start token is the verified prefix (no BOS).
        let prefix = Array(context.tokens.dropFirst())
        let k = model.config.blockSize
        // Past the drafter's positions there is nothing to draft: the target decodes alone.
        guard prefix.count + k <= model.config.maxPositions else { return }
        let logits = try model.draftLogits(encoded, prefix: prefix, k: k, pool: pool)
        let vocab = model.config.vocabSize
        for slot in 0..<min(k, maxTokens) {
            let token = logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress! + slot * vocab, count: vocab) }
            draft.appendChain(Int32(token))
        }
    }
}
