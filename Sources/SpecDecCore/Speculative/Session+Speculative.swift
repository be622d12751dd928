/// Speculative generation on a decoder-only session, with its statistics kept as the
/// session's (like plain `generate`).
extension Session {
    public func generateSpeculative(prompt: UnsafeBufferPointer<Int32>, options: GenerationOptions,
                                    speculative: SpeculativeOptions, drafter: Drafter, rule: AcceptanceRule,
                                    output: UnsafeMutablePointer<Int32>,
                                    onToken: (_ token: Int32, _ index: Int) -> TokenAction) -> GenerationResult {
        do { try checkGenerateArguments(prompt: prompt, options: options) } catch { return .init(count: 0, error: error) }
        let generator: SpeculativeGenerator
        do {
            generator = try SpeculativeGenerator(verifier: SessionVerifier(session: self), drafter: drafter, rule: rule,
                                                 maxDraftTokens: max(0, min(speculative.draftLength, maxBatch - 1)))
        } catch {
            return .init(count: 0, error: error)
        }
        let result = generator.generate(prompt: prompt, options: options, speculative: speculative,
                                        eosTokenIds: config.eosTokenIds, output: output, onToken: onToken)
        let reused = stats.reusedTokens
        stats = generator.stats
        stats.reusedTokens = reused
        return result
    }
}
