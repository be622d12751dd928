/// The plain autoregressive loop: prefill the prompt (reusing what the cache already
/// holds of it), then sample one token per forward pass.
extension Session {
    /// Outcome of `generate`: how many tokens were written, and the error that ended
    /// it early (tokens produced before a failure are kept).
    public struct GenerationResult {
        public var count: Int
        public var error: SpecDecError?

        public init(count: Int, error: SpecDecError?) {
            self.count = count
            self.error = error
        }
    }

    /// Tokens at the start of the cache that equal the prompt at consecutive positions.
    func reusablePrefix(_ prompt: UnsafeBufferPointer<Int32>) -> Int {
        var common = 0
        let limit = min(cache.length, prompt.count - 1)  // the last prompt token is always run: its logits are needed
        while common < limit && cache.tokens[common] == prompt[common] && cache.positions[common] == Int32(common) { common += 1 }
        return common
    }

    /// Runs the prompt through the model, reusing the cached prefix, and writes the
    /// logits of its last token.
    public func prefill(_ prompt: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        let reused = reusablePrefix(prompt)
        cache.truncate(to: reused)
        stats.reusedTokens = reused
        var offset = reused
        while offset < prompt.count {
            let n = min(maxBatch, prompt.count - offset)
            let chunk = UnsafeBufferPointer(rebasing: prompt[offset..<(offset + n)])
            try evaluate(tokens: chunk, logits: offset + n == prompt.count ? logits : nil, rows: .last)
            offset += n
        }
    }

    /// Keeps the accepted path of a draft scored at cache slot `base` (the pending token)
    /// and drops the other nodes: the path's slots move down to follow the pending token.
    public func commitDraftPath(base: Int, path: [Int]) {
        cache.compact(keeping: path.map { base + 1 + $0 }, startingAt: base + 1)
    }

    /// Validates everything that can be checked before work begins.
    public func checkGenerateArguments(prompt: UnsafeBufferPointer<Int32>, options: GenerationOptions) throws(SpecDecError) {
        guard prompt.count >= 1 else { throw .invalidArgument("the prompt must hold at least one token") }
        guard options.maxNewTokens >= 0 else { throw .invalidArgument("max_new_tokens must be >= 0 (got \(options.maxNewTokens))") }
        try options.sampling.validate()
        try validate(tokens: prompt, positions: nil)
        for id in options.stopTokens where id < 0 || Int(id) >= config.vocabSize {
            throw .init(.tokenOutOfRange, "stop token \(id) is outside the vocabulary [0, \(config.vocabSize))")
        }
        guard prompt.count <= cache.capacity else {
            throw .init(.capacity, "the prompt has \(prompt.count) tokens but the KV capacity is \(cache.capacity)")
        }
    }

    /// Generates up to `options.maxNewTokens` tokens into `output` (which must hold that
    /// many). `onToken` sees each token as it is produced.
    public func generate(prompt: UnsafeBufferPointer<Int32>, options: GenerationOptions,
                         output: UnsafeMutablePointer<Int32>,
                         onToken: (_ token: Int32, _ index: Int) -> TokenAction) -> GenerationResult {
        do { try checkGenerateArguments(prompt: prompt, options: options) } catch {
            return GenerationResult(count: 0, error: error)
        }
        stats = GenerationStats()
        stats.promptTokens = prompt.count
        sampler.reset(options.sampling)

        let prefillStart = Clock.now()
        do { try prefill(prompt, logits: nextLogits) } catch {
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
            stats.targetCalls += 1
            do {
                try withUnsafePointer(to: token) { (p) throws(SpecDecError) in
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
}
