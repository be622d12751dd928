/// When beam search may stop before `maxNewTokens` (transformers' `early_stopping`).
public enum BeamEarlyStopping: Int32, Sendable {
    /// early_stopping=False (the default): stop once every beam slot holds a finished hypothesis
    /// and the best running beam, scored at its current length, cannot beat the worst of them.
    case heuristic = 0
    /// early_stopping=True: stop as soon as `beamCount` hypotheses have finished.
    case whenBeamsFinished = 1
    /// early_stopping="never": like `heuristic`, but with a positive length penalty the best
    /// running beam is scored at the maximum length (the canonical beam search).
    case never = 2
}

/// Parameters of `Seq2SeqSession.beamSearch`, with transformers' meanings.
public struct BeamSearchOptions: Sendable {
    /// num_beams.
    public var beamCount = 4
    /// Tokens generated after the decoder start token at most (transformers' max_length - 1).
    public var maxNewTokens = 128
    /// A finished hypothesis scores sum(log p) / length ** lengthPenalty, length counting the
    /// generated tokens (EOS included, the start token not).
    public var lengthPenalty: Double = 1.0
    public var earlyStopping = BeamEarlyStopping.heuristic
    /// num_return_sequences: the best `returnCount` hypotheses, best first (<= beamCount).
    public var returnCount = 1
    /// Tokens that finish a hypothesis; nil = the model's eos_token_id(s), [] = none.
    public var endTokens: [Int32]? = nil

    public init() {}
}

/// One finished hypothesis of a beam search.
public struct BeamHypothesis: Sendable, Equatable {
    /// Generated tokens after the decoder start token; ends with the end token if it finished there.
    public var tokens: [Int32]
    /// transformers' sequences_scores: sum of the tokens' log-probabilities / length ** length_penalty.
    public var score: Double
    /// Whether the hypothesis ended with an end (EOS) token rather than at the length limit.
    public var endedWithEndToken: Bool

    public init(tokens: [Int32], score: Double, endedWithEndToken: Bool) {
        self.tokens = tokens
        self.score = score
        self.endedWithEndToken = endedWithEndToken
    }
}
