/// SuffixDecoding (Oliaro et al. 2024): a suffix trie over the prompt, the output so far
/// and the session's earlier requests; the longest match of the sequence's end selects a
/// subtree, from which the most frequent continuations are proposed as a token tree
/// (best first by estimated probability, up to the draft budget).
public final class SuffixDrafter: Drafter {
    private var trie: SuffixTrie
    /// Continuations less likely than this (estimated from counts) are not proposed.
    public let minimumProbability: Double
    private var indexedLength = 0

    public init(maxDepth: Int = 24, minimumProbability: Double = 0.1) {
        trie = SuffixTrie(maxDepth: maxDepth)
        self.minimumProbability = minimumProbability
    }

    public var proposesTrees: Bool { true }

    public func begin(context: DraftContext) throws(SpecDecError) {
        trie.beginStream()
        if context.sourceSharesTargetVocabulary { trie.append(contentsOf: context.source) }
        trie.beginStream()
        // The newest token is indexed as soon as something follows it.
        trie.append(contentsOf: UnsafeBufferPointer(rebasing: context.tokens[0..<max(0, context.tokens.count - 1)]))
        indexedLength = max(0, context.tokens.count - 1)
    }

    public func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
        // Index what was generated since the last call (all but the unverified newest token).
        let tokens = context.tokens
        if indexedLength < tokens.count - 1 {
            trie.append(contentsOf: UnsafeBufferPointer(rebasing: tokens[indexedLength..<(tokens.count - 1)]))
            indexedLength = tokens.count - 1
        }
        guard maxTokens > 0, let match = trie.deepestMatch(tokens) else { return }
        // Best-first expansion by estimated probability count(child) / count(parent).
        var frontier: [(probability: Double, node: Int, token: Int32, parent: Int32)] = []
        func expand(_ node: Int, parent: Int32, probability: Double) {
            let children = trie.children(node)
            let total = Double(children.reduce(0) { $0 + Int($1.count) })
            for c in children {
                let p = probability * Double(c.count) / max(total, 1)
                if p >= minimumProbability { frontier.append((p, c.node, c.token, parent)) }
            }
        }
        expand(match.node, parent: -1, probability: 1)
        while draft.count < maxTokens, let best = frontier.indices.max(by: { frontier[$0].probability < frontier[$1].probability }) {
            let chosen = frontier.remove(at: best)
            draft.tokens.append(chosen.token)
            draft.parents.append(chosen.parent)
            expand(chosen.node, parent: Int32(draft.count - 1), probability: chosen.probability)
        }
    }
}
