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
        for node in path where goOn {
            goOn = emit(draft.tokens[node])
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

    /// The history seen by the row after `path` (for the repetition penalty).
    func history(along path: [Int], of draft: Draft) -> [Int32] {
        history + path.map { draft.tokens[$0] }
    }
}

/// Walks a draft level by level: at each node, the first child whose token `approves`
/// is accepted; when none is, `fallback` names the appended token.
func walkDraft(_ draft: Draft, _ input: AcceptanceInput, sampler: Sampler,
               approves: (_ row: UnsafeMutablePointer<Float>, _ token: Int32) -> Bool) -> AcceptanceOutcome {
    var path: [Int] = []
    var node = -1
    while true {
        let row = input.row(node + 1)
        let history = input.history(along: path, of: draft)
        history.withUnsafeBufferPointer { sampler.applyRepetitionPenalty(row, history: $0.baseAddress!, count: $0.count) }
        if let child = draft.children(of: node).first(where: { approves(row, draft.tokens[$0]) }) {
            path.append(child)
            node = child
            continue
        }
        return AcceptanceOutcome(path: path, next: Int32(VectorOps.argmax(row, count: input.vocabSize)))
    }
}
