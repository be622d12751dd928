/// What a drafter sees when asked for a proposal.
public struct DraftContext {
    /// Every token of the sequence so far: the prompt (decoder-only) or the decoder input
    /// (encoder-decoder), then the generated tokens, ending with the newest token, which
    /// the target has not scored yet.
    public var tokens: UnsafeBufferPointer<Int32>
    /// How many of `tokens` are prompt.
    public var promptLength: Int
    /// The source sentence of an encoder-decoder target (empty for decoder-only).
    public var source: UnsafeBufferPointer<Int32>
    /// Whether source ids are target ids too (one vocabulary for both sides). With separate
    /// vocabularies an id names different pieces on each side, so it cannot be copied.
    public var sourceSharesTargetVocabulary: Bool
    /// Sampling settings of the request: a drafter whose draft is to be accepted by
    /// speculative sampling samples with these and reports its distributions.
    public var sampling: SamplingParameters
    public var wantsDistributions: Bool
    /// The target's vocabulary size (ids must be below it).
    public var vocabSize: Int
}

/// Proposes tokens for the target to verify. Implementations: a smaller model, prompt
/// lookup, a suffix tree, SpecDec's non-autoregressive drafter, or a host's plugin.
public protocol Drafter: AnyObject {
    /// Starts a request (the drafter may index the prompt and source).
    func begin(context: DraftContext) throws(SpecDecError)
    /// Fills `draft` with at most `maxTokens` nodes continuing `context` (none is fine).
    func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError)
    /// Told which nodes were accepted (root first) and the token the target appended.
    func accepted(path: [Int], of draft: Draft, next: Int32)
    /// Whether proposals may be trees (suffix drafter) or only chains.
    var proposesTrees: Bool { get }
}

extension Drafter {
    public func begin(context: DraftContext) throws(SpecDecError) {}
    public func accepted(path: [Int], of draft: Draft, next: Int32) {}
    public var proposesTrees: Bool { false }
}
