/// Lossless speculative sampling (Leviathan et al. 2023; Chen et al. 2023): draft token x
/// is kept with probability min(1, p(x) / q(x)); on rejection the token is drawn from
/// max(0, p − q) renormalised; when every draft token is kept, a bonus token is drawn
/// from p. p is exactly the distribution plain sampling draws from (repetition penalty,
/// temperature, top-k, top-p, min-p), so the output follows the target's distribution.
/// Chains only: the loop hands tree drafts over as their first chain.
public struct SpeculativeSamplingAcceptance: AcceptanceRule {
    private var p: [Float] = []
    private var residual: [Float] = []
    /// The accepted nodes, refilled each round (the outcome shares it until the next).
    private var path: [Int] = []

    public init() {}

    public var acceptsTrees: Bool { false }

    public mutating func accept(_ draft: Draft, _ input: AcceptanceInput, sampler: inout Sampler) -> AcceptanceOutcome {
        let vocab = input.vocabSize
        if p.count != vocab {
            p = [Float](repeating: 0, count: vocab)
            residual = p
        }
        path.removeAll(keepingCapacity: true)
        path.reserveCapacity(draft.count)
        for i in 0...draft.count {
            let row = input.row(i)
            p.withUnsafeMutableBufferPointer { target in
                input.withHistory(along: path, of: draft, sampler: sampler) { h in
                    sampler.distribution(row, history: h.baseAddress!, historyCount: h.count, into: target.baseAddress!)
                }
            }
            if i == draft.count {
                let bonus = p.withUnsafeBufferPointer { sampler.draw(from: $0.baseAddress!, count: vocab) }
                return AcceptanceOutcome(path: path, next: bonus)
            }
            let token = Int(draft.tokens[i])
            let q = draft.distributions.map { $0[i * vocab + token] } ?? 1
            let ratio = q > 0 ? Double(p[token]) / Double(q) : 0
            if ratio >= 1 || sampler.uniform() < ratio {
                path.append(i)
                continue
            }
            // Rejected: draw from the residual max(0, p − q).
            var mass: Float = 0
            for v in 0..<vocab {
                let qv = draft.distributions.map { $0[i * vocab + v] } ?? (v == token ? 1 : 0)
                residual[v] = max(0, p[v] - qv)
                mass += residual[v]
            }
            // No residual mass means p ≤ q everywhere, i.e. p == q, where rejection cannot
            // happen but for rounding; p itself is then the right distribution.
            let source = mass > 0 ? residual : p
            let next = source.withUnsafeBufferPointer { sampler.draw(from: $0.baseAddress!, count: vocab) }
            return AcceptanceOutcome(path: path, next: next)
        }
        fatalError("unreachable")
    }
}
