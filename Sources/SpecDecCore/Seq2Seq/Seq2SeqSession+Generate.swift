/// Greedy decoding and sampling on an encoder-decoder session: encode the source (unless it
/// is already encoded), run the decoder start token, then the shared decoding loop.
extension Seq2SeqSession {
    /// Validates everything that can be checked before work begins.
    public func checkGenerateArguments(source: UnsafeBufferPointer<Int32>, options: GenerationOptions) throws(SpecDecError) {
        try validate(source: source)
        try options.validate(vocabSize: config.vocabSize, vocabularyName: pass.vocabularyName)
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
            try step(Int32(config.decoderStartTokenId), logits: nextLogits)
        } catch {
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

    /// `generate` into an array (convenience for tests, the CLI and bindings).
    public func generate(source: [Int32], options: GenerationOptions) throws(SpecDecError) -> [Int32] {
        try collectTokens(maxNewTokens: options.maxNewTokens) { output in
            source.withUnsafeBufferPointer { s in generate(source: s, options: options, output: output) { _, _ in .proceed } }
        }
    }
}
