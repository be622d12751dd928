/// Greedy decoding and sampling: encode the source (unless it is already encoded), run the
/// decoder start token, then one token per decoder pass.
extension Seq2SeqSession {
    /// Outcome of `generate`: how many tokens were written, and the error that ended it early
    /// (tokens produced before a failure are kept).
    public struct GenerationResult {
        public var count: Int
        public var error: SpecDecError?
    }

    /// Validates everything that can be checked before work begins.
    public func checkGenerateArguments(source: UnsafeBufferPointer<Int32>, options: GenerationOptions) throws(SpecDecError) {
        try validate(source: source)
        guard options.maxNewTokens >= 0 else { throw .invalidArgument("max_new_tokens must be >= 0 (got \(options.maxNewTokens))") }
        try options.sampling.validate()
        for id in options.stopTokens where id < 0 || Int(id) >= config.vocabSize {
            throw .init(.tokenOutOfRange, "stop token \(id) is outside the target vocabulary [0, \(config.vocabSize))")
        }
    }

    /// Generates up to `options.maxNewTokens` tokens into `output` (which must hold that many).
    /// The decoder start token is added here and is not part of the output; an EOS that ends
    /// the generation is (as in transformers' generate). `onToken` sees each token as it is produced.
    public func generate(source: UnsafeBufferPointer<Int32>, options: GenerationOptions,
                         output: UnsafeMutablePointer<Int32>,
                         onToken: (_ token: Int32, _ index: Int) -> TokenAction) -> GenerationResult {
        do { try checkGenerateArguments(source: source, options: options) } catch {
            return GenerationResult(count: 0, error: error)
        }
        stats = GenerationStats()
        stats.promptTokens = source.count
        sampler.reset(options.sampling)
        let prefillStart = Clock.now()
        do {
            let reused = encoderRuns
            try setSource(source)
            if encoderRuns == reused { stats.reusedTokens = source.count }
            var start = Int32(config.decoderStartTokenId)
            try withUnsafePointer(to: &start) { (p) throws(SpecDecError) in
                try evaluate(tokens: UnsafeBufferPointer(start: p, count: 1), logits: nextLogits, rows: .last)
            }
        } catch {
            stats.stopReason = .error
            return GenerationResult(count: 0, error: error)
        }
        let decodeStart = Clock.now()
        stats.prefillSeconds = decodeStart - prefillStart

        var produced = 0
        var failure: SpecDecError? = nil
        stats.stopReason = .maxTokens
        while produced < options.maxNewTokens {
            let token = sampler.sample(nextLogits, history: cache.tokens, historyCount: cache.length)
            output[produced] = token
            produced += 1
            stats.generatedTokens = produced
            let action = onToken(token, produced - 1)
            if action == .fail {
                failure = .init(.callback, "the token callback reported a failure at token \(produced - 1)")
                stats.stopReason = .error
                break
            }
            if action == .stop { stats.stopReason = .callback; break }
            if options.stopTokens.contains(token) || (options.stopAtEndOfSequence && config.eosTokenIds.contains(Int(token))) {
                stats.stopReason = .stopToken
                break
            }
            if produced == options.maxNewTokens { break }
            if cache.freeSlots == 0 || cache.length >= config.contextLength { stats.stopReason = .capacity; break }
            do {
                var next = token
                try withUnsafePointer(to: &next) { (p) throws(SpecDecError) in
                    try evaluate(tokens: UnsafeBufferPointer(start: p, count: 1), logits: nextLogits, rows: .last)
                }
            } catch {
                failure = error
                stats.stopReason = .error
                break
            }
        }
        stats.decodeSeconds = Clock.now() - decodeStart
        return GenerationResult(count: produced, error: failure)
    }

    /// `generate` into an array (convenience for tests, the CLI and bindings).
    public func generate(source: [Int32], options: GenerationOptions) throws(SpecDecError) -> [Int32] {
        var output = [Int32](repeating: 0, count: max(1, options.maxNewTokens))
        let result = source.withUnsafeBufferPointer { s in
            output.withUnsafeMutableBufferPointer { o in generate(source: s, options: options, output: o.baseAddress!) { _, _ in .proceed } }
        }
        if let error = result.error { throw error }
        return Array(output[0..<result.count])
    }
}
