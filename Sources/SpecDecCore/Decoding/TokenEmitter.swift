/// Where every decoding loop puts a token it has decided on: the caller's buffer, the
/// token callback, and the checks that end generation (callback, stop token or EOS, max
/// tokens). Plain and speculative decoding emit through it, so they stop alike.
struct TokenEmitter {
    let output: UnsafeMutablePointer<Int32>
    let options: GenerationOptions
    let endTokenIds: [Int]
    private(set) var produced = 0
    var failure: SpecDecError?

    init(output: UnsafeMutablePointer<Int32>, options: GenerationOptions, endTokenIds: [Int]) {
        self.output = output
        self.options = options
        self.endTokenIds = endTokenIds
    }

    /// Appends `token`; false when generation must end (the stop reason is in `stats`).
    mutating func emit(_ token: Int32, stats: inout GenerationStats,
                       onToken: (_ token: Int32, _ index: Int) -> TokenAction) -> Bool {
        output[produced] = token
        produced += 1
        stats.generatedTokens = produced
        switch onToken(token, produced - 1) {
        case .fail:
            failure = .init(.callback, "the token callback reported a failure at token \(produced - 1)")
            stats.stopReason = .error
            return false
        case .stop:
            stats.stopReason = .callback
            return false
        case .proceed: break
        }
        if options.stopTokens.contains(token) || (options.stopAtEndOfSequence && endTokenIds.contains(Int(token))) {
            stats.stopReason = .stopToken
            return false
        }
        return produced < options.maxNewTokens
    }

    var result: GenerationResult { GenerationResult(count: produced, error: failure) }
}
