import SpecDecCore

/// Totals over the translated sentences, for the summary line.
struct TranslationSummary {
    var sentences = 0
    var failures = 0
    var tokens = 0
    var seconds = 0.0
    var targetCalls = 0
    var drafted = 0
    var accepted = 0

    mutating func add(_ stats: GenerationStats, seconds: Double) {
        sentences += 1
        tokens += stats.generatedTokens
        self.seconds += seconds
        targetCalls += stats.targetCalls
        drafted += stats.draftedTokens
        accepted += stats.acceptedTokens
    }

    /// A batched call's passes and draft counts (its sentences carry only their tokens).
    mutating func addBatchCall(_ stats: GenerationStats) {
        targetCalls += stats.targetCalls
        drafted += stats.draftedTokens
        accepted += stats.acceptedTokens
    }

    var sentencesPerSecond: Double { seconds > 0 ? Double(sentences) / seconds : 0 }

    func report(threads: Int, drafter: String) -> String {
        var line = "translated \(sentences) sentences (\(tokens) tokens) in \(format(seconds)) s: "
            + "\(format(sentencesPerSecond)) sentences/s, \(format(seconds > 0 ? Double(tokens) / seconds : 0)) tokens/s, \(threads) threads"
        if drafter != "none" {
            let rate = drafted > 0 ? 100 * Double(accepted) / Double(drafted) : 0
            let perCall = targetCalls > 0 ? Double(tokens) / Double(targetCalls) : 0
            line += "; \(drafter) drafter: \(targetCalls) target passes, \(format(perCall)) tokens per pass, "
                + "\(drafted) drafted, \(accepted) accepted (\(format(rate))%)"
        }
        if failures > 0 { line += "; \(failures) failed" }
        return line
    }
}
