/// A drafter that drafts for every sequence of a batch in one pass (SpecDec's Spec-Drafter:
/// one decoder pass over all sequences' mask slots). A batched speculative call runs one
/// instance for all its sequences and names each by an id; a drafter without this
/// conformance keeps one request's state and serves a batch one sequence after another.
public protocol BatchDrafter: Drafter {
    /// Starts sequence `id` (its source and prompt are in `context`).
    func beginSequence(_ id: Int, context: DraftContext) throws(SpecDecError)
    /// Drafts for the sequences `ids` (contexts[i] is ids[i]'s): drafts[i] gets at most
    /// maxTokens[i] nodes, exactly what `propose` would give that sequence alone.
    func propose(sequences ids: [Int], contexts: [DraftContext], maxTokens: [Int], into drafts: inout [Draft]) throws(SpecDecError)
    /// Forgets sequence `id`.
    func endSequence(_ id: Int)
    /// Called once before a batched call's first round: at most `sequences` at once, each
    /// reaching at most `tokensPerSequence` tokens. A drafter sizes its scratch here, so
    /// that its rounds allocate nothing.
    func reserve(sequences: Int, tokensPerSequence: Int) throws(SpecDecError)
}

extension BatchDrafter {
    public func reserve(sequences: Int, tokensPerSequence: Int) throws(SpecDecError) {}
}
