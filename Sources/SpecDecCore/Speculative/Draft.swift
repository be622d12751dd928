/// Draft tokens proposed for verification: a chain, or a tree given by parent indices.
///
/// Node i's parent is `parents[i]` (-1: it follows the last verified token directly);
/// parents come before their children. A chain has parents[i] == i - 1. When the
/// drafter sampled its tokens, `distributions` holds, for each node, the full probability
/// vector q(· | ancestors) it sampled from (`vocabSize` floats per node); lossless
/// speculative sampling needs it. Without it, each node counts as a certain (q = 1) guess.
public struct Draft {
    public var tokens: [Int32] = []
    public var parents: [Int32] = []
    public var distributions: [Float]? = nil
    public var vocabSize = 0

    public init() {}

    public var count: Int { tokens.count }
    public var isEmpty: Bool { tokens.isEmpty }

    public var isChain: Bool {
        for i in parents.indices where parents[i] != Int32(i - 1) { return false }
        return true
    }

    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        parents.removeAll(keepingCapacity: true)
        distributions = nil
    }

    /// Makes room for `count` nodes, so that drafting up to that many allocates nothing.
    public mutating func reserveCapacity(_ count: Int) {
        tokens.reserveCapacity(count)
        parents.reserveCapacity(count)
    }

    public mutating func appendChain(_ token: Int32) {
        parents.append(Int32(tokens.count - 1))
        tokens.append(token)
    }

    /// Depth of node i (1 for a child of the verified prefix).
    public func depth(_ i: Int) -> Int {
        var d = 1
        var p = Int(parents[i])
        while p >= 0 { d += 1; p = Int(parents[p]) }
        return d
    }

    /// Children of `node` (-1 for the roots), in proposal order.
    public func children(of node: Int) -> [Int] {
        parents.indices.filter { parents[$0] == Int32(node) }
    }

    /// The first child of `node` (-1: the roots), in proposal order, that `accepts`; found
    /// without building the list (children follow their parent in node order).
    public func firstChild(of node: Int, where accepts: (Int) -> Bool) -> Int? {
        for child in (node + 1)..<count where parents[child] == Int32(node) && accepts(child) { return child }
        return nil
    }

    /// Keeps the first root-to-leaf chain (first child at every level), for rules that
    /// accept chains only.
    public func firstChain() -> Draft {
        var chain = Draft()
        chain.vocabSize = vocabSize
        var node = -1
        var kept: [Int] = []
        while let next = parents.indices.first(where: { parents[$0] == Int32(node) }) {
            kept.append(next)
            chain.appendChain(tokens[next])
            node = next
        }
        if let q = distributions, vocabSize > 0 {
            var out: [Float] = []
            out.reserveCapacity(kept.count * vocabSize)
            for i in kept { out.append(contentsOf: q[(i * vocabSize)..<((i + 1) * vocabSize)]) }
            chain.distributions = out
        }
        return chain
    }

    /// Checks a draft from an untrusted drafter; returns a description of the first problem.
    public func problem(vocabSize vocab: Int, maxTokens: Int) -> String? {
        if tokens.count > maxTokens { return "the drafter returned \(tokens.count) tokens, more than the \(maxTokens) asked for" }
        if parents.count != tokens.count { return "the drafter returned \(parents.count) parent indices for \(tokens.count) tokens" }
        for i in tokens.indices where tokens[i] < 0 || Int(tokens[i]) >= vocab {
            return "the drafter returned token id \(tokens[i]) at index \(i), outside the vocabulary [0, \(vocab))"
        }
        for i in parents.indices where parents[i] < -1 || Int(parents[i]) >= i {
            return "the drafter returned parent \(parents[i]) for node \(i); parents must precede their children"
        }
        if let q = distributions, q.count != tokens.count * vocab {
            return "the drafter returned \(q.count) draft probabilities for \(tokens.count) tokens × \(vocab)"
        }
        return nil
    }
}
