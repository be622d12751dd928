/// The plain autoregressive loop, for every kind of session: the session has run what comes
/// before the first new token (the prompt, or the source and the decoder start token) and
/// left its logits in `logits`; then one token is sampled and run per pass. The sampler and
/// statistics come in as `inout` rather than through protocol accessors, so the loop
/// allocates nothing per token.
enum DecodingLoop {
    static func run<Target: DecodingTarget>(
        _ target: Target, sampler: inout Sampler, stats: inout GenerationStats, logits: UnsafeMutablePointer<Float>,
        history: UnsafePointer<Int32>, options: GenerationOptions, endTokenIds: [Int], prefillStart: Double,
        output: UnsafeMutablePointer<Int32>, onToken: (_ token: Int32, _ index: Int) -> TokenAction
    ) -> GenerationResult {
        let decodeStart = Clock.now()
        stats.prefillSeconds = decodeStart - prefillStart
        var emitter = TokenEmitter(output: output, options: options, endTokenIds: endTokenIds)
        stats.stopReason = .maxTokens
        while emitter.produced < options.maxNewTokens {
            let token = sampler.sample(logits, history: history, historyCount: target.length)
            guard emitter.emit(token, stats: &stats, onToken: onToken) else { break }
            if target.remainingCapacity <= 0 { stats.stopReason = .capacity; break }
            stats.targetCalls += 1
            do { try target.step(token, logits: logits) } catch {
                emitter.failure = error
                stats.stopReason = .error
                break
            }
        }
        stats.decodeSeconds = Clock.now() - decodeStart
        return emitter.result
    }
}

/// `generate` into an array (convenience for tests, the CLI and bindings).
func collectTokens(maxNewTokens: Int, _ run: (UnsafeMutablePointer<Int32>) -> GenerationResult) throws(SpecDecError) -> [Int32] {
    var output = [Int32](repeating: 0, count: max(1, maxNewTokens))
    let result = output.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
    if let error = result.error { throw error }
    return Array(output[0..<result.count])
}
