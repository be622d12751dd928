/// Read-only access to a Darts-clone double-array trie, the format of SentencePiece's
/// precompiled normalization map. Each 32-bit unit packs a label, an offset to its
/// children and a leaf flag; the layout is Darts-clone's, every access bounds-checked.
struct DoubleArrayTrie: Sendable {
    let units: [UInt32]

    @inline(__always) private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ unit: UInt32) -> UInt32 { unit & ((1 << 31) - 1) }
    @inline(__always) private static func label(_ unit: UInt32) -> UInt32 { unit & ((1 << 31) | 0xFF) }
    @inline(__always) private static func offset(_ unit: UInt32) -> UInt32 { (unit >> 10) << ((unit & (1 << 9)) >> 6) }

    /// Calls `body(length, value)` for each key that is a prefix of `text[start..<end]`,
    /// shortest first. `stopAtNul` ends the walk at a zero byte (the Rust port does).
    func forEachPrefix(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, stopAtNul: Bool,
                       _ body: (Int, UInt32) -> Void) {
        guard let root = units.first else { return }
        var id = Int(DoubleArrayTrie.offset(root))
        var i = start
        while i < end {
            let c = text[i]
            if stopAtNul && c == 0 { return }
            id ^= Int(c)
            guard id >= 0, id < units.count else { return }
            let unit = units[id]
            if DoubleArrayTrie.label(unit) != UInt32(c) { return }
            id ^= Int(DoubleArrayTrie.offset(unit))
            if DoubleArrayTrie.hasLeaf(unit) {
                guard id >= 0, id < units.count else { return }
                body(i + 1 - start, DoubleArrayTrie.value(units[id]))
            }
            i += 1
        }
    }
}

/// SentencePiece's `precompiled_charsmap`: a little-endian u32 trie size, the trie, then the
/// replacement strings (NUL-terminated) that trie values point into.
struct PrecompiledCharsMap: Sendable {
    let trie: DoubleArrayTrie
    let normalized: [UInt8]

    init(blob: [UInt8]) throws(TokenizerError) {
        guard blob.count > 4 else { throw TokenizerError.format("precompiled charsmap is truncated") }
        let size = Int(UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24)
        guard size < blob.count - 4 + 1, size % 4 == 0, size <= blob.count - 4 else {
            throw TokenizerError.format("precompiled charsmap trie size \(size) exceeds the blob")
        }
        var units: [UInt32] = []
        units.reserveCapacity(size / 4)
        var i = 4
        while i < 4 + size {
            units.append(UInt32(blob[i]) | UInt32(blob[i + 1]) << 8 | UInt32(blob[i + 2]) << 16 | UInt32(blob[i + 3]) << 24)
            i += 4
        }
        trie = DoubleArrayTrie(units: units)
        normalized = Array(blob[(4 + size)...])
    }

    /// The replacement string stored at `offset` (up to its NUL); nil if out of range.
    func replacement(at offset: UInt32) -> ArraySlice<UInt8>? {
        let start = Int(offset)
        guard start <= normalized.count else { return nil }
        var end = start
        while end < normalized.count, normalized[end] != 0 { end += 1 }
        return normalized[start..<end]
    }
}
