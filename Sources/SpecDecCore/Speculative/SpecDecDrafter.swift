/// SpecDec's drafter for an encoder-decoder target: the Spec-Drafter encodes the source
/// once per request and, each round, fills its k mask slots after the verified prefix in
/// one pass; the slots' argmax tokens are the draft (accepted by Spec-Verification,
/// `TopBetaToleranceAcceptance`, or any other rule).
public final class SpecDecDrafter: BatchDrafter {
    public let model: SpecDrafterModel
    private var encoded: SpecDrafterModel.EncodedSource?
    /// The sources of a batched call's sequences, by id.
    private var encodedSequences: [Int: SpecDrafterModel.EncodedSource] = [:]
    private let pool: ThreadPool?
    /// The drafter's activations, and a round's requests and which sequences they draft
    /// for: reused from round to round.
    private let workspace: SpecDrafterWorkspace
    private var requests: [SpecDrafterModel.DraftRequest] = []
    private var drafted: [Int] = []

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
        workspace = try SpecDrafterWorkspace(config: c)
    }

    public func begin(context: DraftContext) throws(SpecDecError) {
        encoded = try model.encode(Array(context.source), pool: pool, workspace: workspace)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        guard let encoded, let request = request(encoded, context: context, maxTokens: maxTokens) else { return }
        requests.removeAll(keepingCapacity: true)
        requests.append(request)
        let logits = try model.draftLogits(requests, k: model.config.blockSize, pool: pool, workspace: workspace)
        appendDraft(logits, slot: 0, maxTokens: maxTokens, into: &draft)
    }

    public func reserve(sequences: Int, tokensPerSequence: Int) throws(SpecDecError) {
        let k = model.config.blockSize
        try workspace.reserve(rows: sequences * min(model.config.maxPositions, tokensPerSequence + k), slots: sequences * k,
                              sequences: sequences)
        requests.reserveCapacity(sequences)
        drafted.reserveCapacity(sequences)
    }

    public func beginSequence(_ id: Int, context: DraftContext) throws(SpecDecError) {
        encodedSequences[id] = try model.encode(Array(context.source), pool: pool, workspace: workspace)
    }

    public func endSequence(_ id: Int) { encodedSequences[id] = nil }

    /// One decoder pass drafts for every sequence that has room.
    public func propose(sequences ids: [Int], contexts: [DraftContext], maxTokens: [Int], into drafts: inout [Draft]) throws(SpecDecError) {
        requests.removeAll(keepingCapacity: true)
        drafted.removeAll(keepingCapacity: true)
        for i in ids.indices {
            guard let encoded = encodedSequences[ids[i]],
                  let request = request(encoded, context: contexts[i], maxTokens: maxTokens[i]) else { continue }
            requests.append(request)
            drafted.append(i)
        }
        guard !requests.isEmpty else { return }
        let logits = try model.draftLogits(requests, k: model.config.blockSize, pool: pool, workspace: workspace)
        for slot in drafted.indices {
            let i = drafted[slot]
            appendDraft(logits, slot: slot, maxTokens: maxTokens[i], into: &drafts[i])
        }
    }

    /// What the drafter runs for `context`: its verified prefix after the start token
    /// (nil when nothing is wanted, or past the drafter's positions, where the target
    /// decodes alone).
    private func request(_ encoded: SpecDrafterModel.EncodedSource, context: DraftContext, maxTokens: Int) -> SpecDrafterModel.DraftRequest? {
        guard maxTokens > 0 else { return nil }
        // The decoder input after the start token is the verified prefix (no BOS).
        guard let first = context.tokens.baseAddress, context.tokens.count >= 1 else { return nil }
        let prefix = UnsafeBufferPointer(start: first + 1, count: context.tokens.count - 1)
        guard prefix.count + model.config.blockSize <= model.config.maxPositions else { return nil }
        return .init(source: encoded, prefix: prefix)
    }

    /// The argmax tokens of request `slot`'s mask slots, at most `maxTokens`.
    private func appendDraft(_ logits: UnsafePointer<Float>, slot: Int, maxTokens: Int, into draft: inout Draft) {
        let k = model.config.blockSize, vocab = model.config.vocabSize
        for i in 0..<min(k, maxTokens) {
            draft.appendChain(Int32(VectorOps.argmax(logits + (slot * k + i) * vocab, count: vocab)))
        }
    }
}
