/// Plain generation on a decoder-only session: prefill the prompt (reusing what the cache
/// already holds of it), then the shared decoding loop.
extension Session {
    /// Runs the prompt through the model, reusing the cached prefix, and writes the
    /// logits of its last token.
    public func prefill(_ prompt: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        let reused = cache.reusablePrefix(of: prompt)
        cache.truncate(to: reused)
        stats.reusedTokens = reused
        try append(UnsafeBufferPointer(rebasing: prompt[reused...]), logits: logits)
    }

    /// Validates everything that can be checked before work begins.
    public func checkGenerateArguments(prompt: UnsafeBufferPointer<Int32>, options: GenerationOptions) throws(SpecDecError) {
        guard prompt.count >= 1 else { throw .invalidArgument("the prompt must hold at least one token") }
        try options.validate(vocabSize: config.vocabSize, vocabularyName: pass.vocabularyName)
        try validate(tokens: prompt, positions: nil)
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
        // The loop counts into a copy, written back when it ends: the token callback may
        // read the session's statistics meanwhile without overlapping the loop's access.
        var loopStats = stats
        defer { stats = loopStats }
        return DecodingLoop.run(self, sampler: &sampler, stats: &loopStats, logits: nextLogits, history: cache.tokens,
                                options: options, endTokenIds: config.eosTokenIds, prefillStart: prefillStart,
                                output: output, onToken: onToken)
    }
}
