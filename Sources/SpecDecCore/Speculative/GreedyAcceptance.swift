/// Exact greedy match: a node is kept when it is the target's argmax. The output is
/// plain greedy decoding's, token for token.
public struct GreedyAcceptance: AcceptanceRule {
    private var path: [Int] = []

    public init() {}
    public var acceptsTrees: Bool { true }

    public mutating func accept(_ draft: Draft, _ input: AcceptanceInput, sampler: inout Sampler) -> AcceptanceOutcome {
        let vocab = input.vocabSize
        return walkDraft(draft, input, sampler: sampler, path: &path) { row, token in VectorOps.argmax(row, count: vocab) == Int(token) }
    }
}
