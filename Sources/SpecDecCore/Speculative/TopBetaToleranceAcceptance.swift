/// SpecDec's Spec-Verification (Xia et al.): a draft token is kept while it ranks in the
/// target's top-β and its logit is within τ of the top-1 logit. At the first failure the
/// target's top-1 is appended. β = 1 is greedy decoding exactly (ties break toward the
/// lower id, as argmax does).
public struct TopBetaToleranceAcceptance: AcceptanceRule {
    public var beta: Int
    public var tau: Float
    private var path: [Int] = []

    public init(beta: Int, tau: Float) {
        self.beta = beta
        self.tau = tau
    }

    public var acceptsTrees: Bool { true }

    public mutating func accept(_ draft: Draft, _ input: AcceptanceInput, sampler: inout Sampler) -> AcceptanceOutcome {
        let vocab = input.vocabSize, beta = beta, tau = tau
        return walkDraft(draft, input, sampler: sampler, path: &path) { row, token in
            let value = row[Int(token)]
            var rank = 0
            var top = -Float.infinity
            for i in 0..<vocab {
                let v = row[i]
                if v > top { top = v }
                if v > value || (v == value && i < Int(token)) { rank += 1 }
            }
            return rank < beta && value >= top - tau
        }
    }
}
