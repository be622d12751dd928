/// Decodes sequence i (with the options given, its seed set) into the output given, on
/// the session's one-sequence path: how a batch call runs speculative decoding.
public typealias BatchDecodeAlone = (_ index: Int, _ options: GenerationOptions, _ output: UnsafeMutablePointer<Int32>) -> GenerationResult

/// A batch call decoded one sequence after another, through the one-sequence path: batch
/// size 1, and the kinds of decoding that have no batched pass (beam search, speculative).
enum BatchOneByOne {
    /// `decode(i, options, output)` decodes sequence i into `output` and returns its result
    /// and the session's statistics afterwards, which are summed into `stats`.
    static func run(count: Int, options: GenerationOptions, seeds: [UInt64], outputs: UnsafeMutablePointer<Int32>,
                    stats: inout GenerationStats,
                    _ decode: (Int, GenerationOptions, UnsafeMutablePointer<Int32>) -> (GenerationResult, GenerationStats)) -> [BatchSequenceResult] {
        let width = max(1, options.maxNewTokens)
        var results = [BatchSequenceResult](repeating: BatchSequenceResult(), count: count)
        for i in 0..<count {
            var own = options
            own.sampling.seed = seeds[i]
            let (result, sequenceStats) = decode(i, own, outputs + i * width)
            results[i].count = result.count
            results[i].stopReason = sequenceStats.stopReason
            results[i].error = result.error?.prefixed("sequence \(i)")
            stats.add(sequenceStats)
        }
        return results
    }
}
