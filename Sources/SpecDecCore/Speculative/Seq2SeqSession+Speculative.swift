/// Speculative generation from a source sentence, with the decoder as the target.
extension Seq2SeqSession {
    /// Translates `source` speculatively; the decoder start token and `prefix` (a forced
    /// target prefix) come first and are not part of the output.
    public func generateSpeculative(source: UnsafeBufferPointer<Int32>, prefix: UnsafeBufferPointer<Int32> = .init(start: nil, count: 0),
                                    options: GenerationOptions, speculative: SpeculativeOptions, drafter: Drafter,
                                    rule: AcceptanceRule, output: UnsafeMutablePointer<Int32>,
                                    onToken: (_ token: Int32, _ index: Int) -> TokenAction) -> GenerationResult {
        let prompt = [Int32(config.decoderStartTokenId)] + Array(prefix)
        do {
            try setSource(source)
            let generator = try SpeculativeGenerator(verifier: SessionVerifier(target: self), drafter: drafter, rule: rule,
                                                     maxDraftTokens: max(0, min(speculative.draftLength, maxBatch - 1)))
            let result = prompt.withUnsafeBufferPointer { p in
                generator.generate(prompt: p, source: source, sourceSharesTargetVocabulary: config.sharedEmbeddings,
                                   options: options, speculative: speculative,
                                   eosTokenIds: config.eosTokenIds, output: output, onToken: onToken)
            }
            stats = generator.stats
            return GenerationResult(count: result.count, error: result.error)
        } catch {
            return GenerationResult(count: 0, error: error)
        }
    }

    /// `generateSpeculative` into an array (convenience for the CLI and tests).
    public func generateSpeculative(source: [Int32], options: GenerationOptions, speculative: SpeculativeOptions,
                                    drafter: Drafter, rule: AcceptanceRule) throws(SpecDecError) -> [Int32] {
        try collectTokens(maxNewTokens: options.maxNewTokens) { output in
            source.withUnsafeBufferPointer { s in
                generateSpeculative(source: s, options: options, speculative: speculative, drafter: drafter, rule: rule,
                                    output: output) { _, _ in .proceed }
            }
        }
    }
}
