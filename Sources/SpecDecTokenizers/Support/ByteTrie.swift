/// A trie over byte strings for common-prefix search: Unigram's lattice and the added-token
/// matcher both ask "which keys start at this position?". Edges live in one hash map keyed
/// by (node, byte), so the trie costs a few bytes per edge and one probe per step.
struct ByteTrie: Sendable {
    private var edges = PairMap(capacity: 1024)
    /// The root's children by byte (-1: none): every search starts there, so the first step
    /// is one load instead of a hash probe, and a failed search usually ends at it.
    private var rootChildren = [Int32](repeating: -1, count: 256)
    /// Value stored at each node, or -1 when no key ends there. Node 0 is the root.
    private(set) var values: [Int32] = [-1]

    init() {}

    /// Stores `value` for `key`, keeping the first value when the key is inserted twice
    /// unless `replace` is set.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value: Int32, replace: Bool = false) {
        var node: Int32 = 0
        for byte in key {
            let edge = ByteTrie.edgeKey(node, byte)
            if let child = edges.get(edge) {
                node = Int32(truncatingIfNeeded: child)
            } else {
                let child = Int32(values.count)
                values.append(-1)
                edges.insertIfAbsent(edge, UInt64(child))
                if node == 0 { rootChildren[Int(byte)] = child }
                node = child
            }
        }
        if values[Int(node)] < 0 || replace { values[Int(node)] = value }
    }

    mutating func insert(_ key: [UInt8], value: Int32, replace: Bool = false) {
        key.withUnsafeBufferPointer { insert($0, value: value, replace: replace) }
    }

    @inline(__always)
    private static func edgeKey(_ node: Int32, _ byte: UInt8) -> UInt64 {
        UInt64(UInt32(bitPattern: node)) << 8 | UInt64(byte)
    }

    /// The child of `node` along `byte`, or nil.
    @inline(__always)
    func child(_ node: Int32, _ byte: UInt8) -> Int32? {
        if node == 0 {
            let child = rootChildren[Int(byte)]
            return child >= 0 ? child : nil
        }
        guard let child = edges.get(ByteTrie.edgeKey(node, byte)) else { return nil }
        return Int32(truncatingIfNeeded: child)
    }

    @inline(__always)
    func value(_ node: Int32) -> Int32 { values[Int(node)] }

    var isEmpty: Bool { values.count == 1 }

    /// Calls `body(length, value)` for every key that is a prefix of `text[start...]`, shortest first.
    @inline(__always)
    func forEachPrefix(_ text: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (Int, Int32) -> Void) {
        var node: Int32 = 0
        var i = start
        while i < text.count, let next = child(node, text[i]) {
            node = next
            i += 1
            let v = values[Int(node)]
            if v >= 0 { body(i - start, v) }
        }
    }

    /// The longest key that is a prefix of `text[start...]`, as (length, value).
    func longestPrefix(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> (length: Int, value: Int32)? {
        var best: (Int, Int32)?
        forEachPrefix(text, from: start) { length, value in best = (length, value) }
        return best
    }
}
