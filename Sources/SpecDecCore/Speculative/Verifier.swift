/// The target model, as speculative decoding uses it: it scores the newest token plus a
/// draft in one pass and keeps only what was accepted.
public protocol Verifier: AnyObject {
    var vocabSize: Int { get }
    /// Most draft nodes one `score` call accepts (batch and cache limits).
    var maxDraftTokens: Int { get }
    /// Tokens the target can still take; `score` needs 1 + draft nodes.
    var remainingCapacity: Int { get }
    /// Runs the prompt (or decoder prefix) and writes the next-token logits.
    func prefill(_ tokens: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError)
    /// Scores `pending` (the newest token, not yet run) followed by the draft's nodes,
    /// each node seeing `pending` and its ancestors. Writes 1 + draft.count logit rows:
    /// row 0 predicts the first level, row 1 + i predicts what follows node i.
    func score(pending: Int32, draft: Draft, logits: UnsafeMutablePointer<Float>) throws(SpecDecError)
    /// Keeps `pending` and the accepted nodes `path` (root first) of the last `score`.
    func commit(path: [Int], of draft: Draft) throws(SpecDecError)
}

/// A decoding target as the verifier: draft nodes go through one `evaluate` call with a
/// tree mask, and the accepted path's cache slots are compacted in place.
public final class SessionVerifier: Verifier {
    public let target: any DecodingTarget
    private var base = 0
    private var mask: [UInt8] = []
    private var tokens: [Int32] = []
    private var positions: [Int32] = []

    public init(target: any DecodingTarget) { self.target = target }
    public convenience init(session: Session) { self.init(target: session) }

    public var vocabSize: Int { target.vocabSize }
    public var maxDraftTokens: Int { max(0, min(target.maxBatch, remainingCapacity) - 1) }
    public var remainingCapacity: Int { target.remainingCapacity }

    public func prefill(_ tokens: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        try target.prefill(tokens, logits: logits)
    }

    public func score(pending: Int32, draft: Draft, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        base = target.length
        let n = 1 + draft.count
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        tokens.append(pending)
        positions.append(Int32(base))
        var depths = [Int](repeating: 0, count: draft.count)
        for i in 0..<draft.count {
            let p = Int(draft.parents[i])
            depths[i] = p < 0 ? 1 : depths[p] + 1
            tokens.append(draft.tokens[i])
            positions.append(Int32(base + depths[i]))
        }
        let isChain = draft.isChain
        if !isChain {
            mask = [UInt8](repeating: 0, count: n * n)
            mask[0] = 1
            for i in 0..<draft.count {
                let row = (i + 1) * n
                mask[row] = 1
                mask[row + i + 1] = 1
                var p = Int(draft.parents[i])
                while p >= 0 { mask[row + p + 1] = 1; p = Int(draft.parents[p]) }
            }
        }
        let target = self.target
        try tokens.withUnsafeBufferPointer { (t) throws(SpecDecError) in
            try positions.withUnsafeBufferPointer { (pos) throws(SpecDecError) in
                try mask.withUnsafeBufferPointer { (m) throws(SpecDecError) in
                    try target.evaluate(tokens: t, positions: pos, logits: logits, rows: .all, batchMask: isChain ? nil : m.baseAddress)
                }
            }
        }
    }

    public func commit(path: [Int], of draft: Draft) throws(SpecDecError) {
        target.commitDraftPath(base: base, path: path)
    }
}
