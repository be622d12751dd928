/// The nodes of a draft the target accepts, and the token it appends after them.
public struct AcceptanceOutcome {
    public var path: [Int]
    public var next: Int32
}

extension AcceptanceOutcome {
    /// Emits the accepted nodes of `draft`, then the target's token, through `emit` until
    /// it reports the end. Returns whether generation goes on, and how many drafted tokens
    /// were output (accepted drafts past a stop are not: the statistics leave them out).
    func emit(of draft: Draft, _ emit: (Int32) -> Bool) -> (goOn: Bool, emittedDrafts: Int) {
        var goOn = true, emittedDrafts = 0
        for i in path.indices where goOn {
            goOn = emit(draft.tokens[path[i]])
            emittedDrafts += 1
        }
        return (goOn && emit(next), emittedDrafts)
    }
}

/// Everything a rule needs besides the draft and the target's logits.
public struct AcceptanceInput {
    /// 1 + draft.count rows of logits from `Verifier.score`; rules may modify them.
    public var logits: UnsafeMutablePointer<Float>
    public var vocabSize: Int
    /// The sequence before the draft (for the repetition penalty).
    public var history: [Int32]

    public init(logits: UnsafeMutablePointer<Float>, vocabSize: Int, history: [Int32]) {
        self.logits = logits
        self.vocabSize = vocabSize
        self.history = history
    }
}

/// Decides how much of a draft the target keeps.
public protocol AcceptanceRule {
    /// Whether the rule can walk a draft tree (otherwise the loop passes chains only).
    var acceptsTrees: Bool { get }
    mutating func accept(_ draft: Draft, _ input: AcceptanceInput, sampler: inout Sampler) -> AcceptanceOutcome
}

extension AcceptanceInput {
    func row(_ r: Int) -> UnsafeMutablePointer<Float> { logits + r * vocabSize }

    /// Runs `body` with the history seen by the row after `path`: the input's own history
    /// when the sampler has no repetition penalty (which is all the history is for), else a
    /// copy extended with the path's tokens.
    func withHistory<R>(along path: [Int], of draft: Draft, sampler: Sampler, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        guard sampler.penalizesRepetition, !path.isEmpty else { return history.withUnsafeBufferPointer(body) }
        return (history + path.map { draft.tokens[$0] }).withUnsafeBufferPointer(body)
    }
}

/// Walks a draft level by level: at each node, the first child whose token `approves`
/// is accepted; when none is, the row's argmax is appended. `path` is the rule's own
/// buffer, refilled each round (the outcome shares it until the next).
func walkDraft(_ draft: Draft, _ input: AcceptanceInput, sampler: Sampler, path: inout [Int],
               approves: (_ row: UnsafeMutablePointer<Float>, _ token: Int32) -> Bool) -> AcceptanceOutcome {
    path.removeAll(keepingCapacity: true)
    path.reserveCapacity(draft.count)
    var node = -1
    while true {
        let row = input.row(node + 1)
        input.withHistory(along: path, of: draft, sampler: sampler) {
            sampler.applyRepetitionPenalty(row, history: $0.baseAddress!, count: $0.count)
        }
        if let child = draft.firstChild(of: node, where: { approves(row, draft.tokens[$0]) }) {
            path.append(child)
            node = child
            continue
        }
        return AcceptanceOutcome(path: path, next: Int32(VectorOps.argmax(row, count: input.vocabSize)))
    }
}
