/// A depth-limited trie of every suffix of the token streams fed to it, with counts:
/// node(path) counts how often `path` occurred. Appending a token extends the suffixes
/// ending at the previous token in O(depth), so it grows as output is produced.
public struct SuffixTrie {
    struct Node {
        var count: Int32 = 0
        var children: [Int32: Int32] = [:]
    }

    public let maxDepth: Int
    private(set) var nodes: [Node] = [Node()]
    /// Nodes of the suffixes ending at the last appended token, shortest first.
    private var active: [Int32] = []

    public init(maxDepth: Int) { self.maxDepth = max(2, maxDepth) }

    public var nodeCount: Int { nodes.count }

    /// Starts a new stream: later tokens do not continue earlier ones.
    public mutating func beginStream() { active.removeAll(keepingCapacity: true) }

    public mutating func append(_ token: Int32) {
        var next: [Int32] = [child(of: 0, token)]
        for node in active where next.count < maxDepth {
            next.append(child(of: Int(node), token))
        }
        active = next
    }

    public mutating func append<S: Sequence>(contentsOf tokens: S) where S.Element == Int32 {
        for t in tokens { append(t) }
    }

    private mutating func child(of node: Int, _ token: Int32) -> Int32 {
        if let c = nodes[node].children[token] {
            nodes[Int(c)].count += 1
            return c
        }
        let c = Int32(nodes.count)
        nodes.append(Node(count: 1))
        nodes[node].children[token] = c
        return c
    }

    /// The node for the longest suffix of `context` (at most maxDepth - 1 tokens) that
    /// occurred and was followed by something.
    public func deepestMatch(_ context: UnsafeBufferPointer<Int32>) -> (node: Int, length: Int)? {
        let longest = min(context.count, maxDepth - 1)
        var length = longest
        while length >= 1 {
            var node = 0
            var found = true
            for i in (context.count - length)..<context.count {
                guard let c = nodes[node].children[context[i]] else { found = false; break }
                node = Int(c)
            }
            if found && !nodes[node].children.isEmpty { return (node, length) }
            length -= 1
        }
        return nil
    }

    func children(_ node: Int) -> [(token: Int32, node: Int, count: Int32)] {
        nodes[node].children.map { (token: $0.key, node: Int($0.value), count: nodes[Int($0.value)].count) }
            .sorted { $0.count > $1.count || ($0.count == $1.count && $0.token < $1.token) }
    }

    func count(_ node: Int) -> Int32 { nodes[node].count }
}
