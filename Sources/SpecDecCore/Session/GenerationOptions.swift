/// What a streaming callback asks the generation loop to do next.
public enum TokenAction: Sendable {
    case proceed
    case stop
    case fail
}

/// Everything a single `generate` call takes besides the prompt.
public struct GenerationOptions {
    public var maxNewTokens = 128
    public var sampling = SamplingParameters()
    public var stopTokens: [Int32] = []
    public var stopAtEndOfSequence = true

    public init() {}
}

extension GenerationOptions {
    /// Checks the options before any work, against a vocabulary of `vocabSize` tokens
    /// (`vocabularyName` words the message: "vocabulary" or "target vocabulary").
    func validate(vocabSize: Int, vocabularyName: String) throws(SpecDecError) {
        guard maxNewTokens >= 0 else { throw .invalidArgument("max_new_tokens must be >= 0 (got \(maxNewTokens))") }
        try sampling.validate()
        for id in stopTokens where id < 0 || Int(id) >= vocabSize {
            throw .init(.tokenOutOfRange, "stop token \(id) is outside the \(vocabularyName) [0, \(vocabSize))")
        }
    }
}
