/// Prompt lookup: finds the most recent earlier occurrence of the sequence's last n
/// tokens (n from `maxN` down to `minN`) in the prompt and the output so far, then in the
/// source when it shares the target vocabulary,
/// and proposes the tokens that followed it. Free to run, and strong when the output
/// copies from the input (rewriting, summarising, editing code).
public final class NGramDrafter: Drafter {
    public let minN: Int
    public let maxN: Int

    public init(minN: Int = 1, maxN: Int = 3) {
        self.minN = max(1, minN)
        self.maxN = max(self.minN, maxN)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        let tokens = context.tokens
        guard maxTokens > 0, tokens.count >= minN else { return }
        for n in stride(from: min(maxN, tokens.count), through: minN, by: -1) {
            let suffix = tokens.count - n
            // The sequence itself, latest occurrence first (excluding the suffix itself).
            var start = suffix - 1
            while start >= 0 {
                if matches(tokens, at: start, suffixStart: suffix, n: n) {
                    let from = start + n
                    for i in from..<min(tokens.count, from + maxTokens) { draft.appendChain(tokens[i]) }
                    if !draft.isEmpty { return }
                }
                start -= 1
            }
            // Then the source of an encoder-decoder target.
            let source = context.sourceSharesTargetVocabulary ? context.source : UnsafeBufferPointer(start: nil, count: 0)
            if source.count >= n {
                for s in stride(from: source.count - n, through: 0, by: -1) {
                    var equal = true
                    for j in 0..<n where source[s + j] != tokens[suffix + j] { equal = false; break }
                    if equal && s + n < source.count {
                        for i in (s + n)..<min(source.count, s + n + maxTokens) { draft.appendChain(source[i]) }
                        return
                    }
                }
            }
        }
    }

    private func matches(_ t: UnsafeBufferPointer<Int32>, at start: Int, suffixStart: Int, n: Int) -> Bool {
        for j in 0..<n where t[start + j] != t[suffixStart + j] { return false }
        return true
    }
}
