/// The decoder of an encoder-decoder session as a speculative target, and speculative
/// generation from a source sentence.
extension Seq2SeqSession: DecodingTarget {
    public var vocabSize: Int { config.vocabSize }
    public var positionLimit: Int { config.contextLength }

    /// Runs the decoder input from an empty cache (the source stays encoded).
    public func prefill(_ tokens: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        try truncate(to: 0)
        var offset = 0
        while offset < tokens.count {
            let n = min(maxBatch, tokens.count - offset)
            try evaluate(tokens: UnsafeBufferPointer(rebasing: tokens[offset..<(offset + n)]), positions: nil,
                         logits: offset + n == tokens.count ? logits : nil, rows: .last, batchMask: nil)
            offset += n
        }
    }

    public func commitDraftPath(base: Int, path: [Int]) {
        cache.compact(keeping: path.map { base + 1 + $0 }, startingAt: base + 1)
    }

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
}
