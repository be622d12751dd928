/// A token from tokenizer.json's `added_tokens`: matched in the text before the model
/// runs, so it always encodes to its own id.
struct AddedToken: Sendable {
    let id: Int32
    let content: String
    let singleWord: Bool
    let leftStrip: Bool
    let rightStrip: Bool
    let normalized: Bool
    let special: Bool
}

/// Finds added tokens in text the way the reference does: tokens with `normalized: false`
/// in the raw text, the others in the normalized text of what lies between; leftmost
/// longest matches, with the single_word / lstrip / rstrip rules.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    private let rawTrie: ByteTrie
    private let normalizedTrie: ByteTrie
    /// Contents of special tokens: `skipSpecialTokens` drops any token spelled like one.
    let specialContents: Set<String>
    /// Text each added id decodes to (its content, or normalized content when the
    /// normalizer changes it, as the reference's normalized cache does).
    let decodedContent: [Int32: String]

    struct Segment {
        var start: Int
        var end: Int
        /// The added token's id, or nil for ordinary text.
        var id: Int32?
    }

    init(tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        var rawTrie = ByteTrie()
        var normalizedTrie = ByteTrie()
        var special = Set<String>()
        var decoded: [Int32: String] = [:]
        // Later entries for the same id replace earlier ones, like the reference's maps.
        var latest: [Int32: Int] = [:]
        for (index, token) in tokens.enumerated() where !token.content.isEmpty { latest[token.id] = index }
        for (index, token) in tokens.enumerated() where latest[token.id] == index {
            if token.special { special.insert(token.content) }
            if token.normalized {
                var pattern = Array(token.content.utf8)
                if let normalizer {
                    pattern = normalizer.normalize(pattern)
                    if pattern != Array(token.content.utf8) {
                        decoded[token.id] = String(decoding: pattern, as: UTF8.self)
                    }
                }
                if !pattern.isEmpty { normalizedTrie.insert(pattern, value: Int32(index), replace: true) }
            } else {
                rawTrie.insert(Array(token.content.utf8), value: Int32(index), replace: true)
            }
            if decoded[token.id] == nil { decoded[token.id] = token.content }
        }
        self.rawTrie = rawTrie
        self.normalizedTrie = normalizedTrie
        self.specialContents = special
        self.decodedContent = decoded
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Cuts `text` into ordinary segments and added tokens (`normalized` selects which set).
    func split(_ text: UnsafeBufferPointer<UInt8>, normalized: Bool) -> [Segment] {
        let trie = normalized ? normalizedTrie : rawTrie
        if trie.isEmpty || text.isEmpty { return [Segment(start: 0, end: text.count, id: nil)] }
        var segments: [Segment] = []
        var startOffset = 0
        var i = 0
        while i < text.count {
            guard let (length, index) = trie.longestPrefix(text, from: i) else { i += 1; continue }
            let token = tokens[Int(index)]
            var start = i
            var stop = i + length
            i = stop
            if token.singleWord {
                let startIsBoundary = start == 0 || !AddedVocabulary.endsWithWordCharacter(text, start)
                let stopIsBoundary = stop == text.count || !AddedVocabulary.startsWithWordCharacter(text, stop)
                if !startIsBoundary || !stopIsBoundary { continue }
            }
            if token.leftStrip {
                start = max(AddedVocabulary.whitespaceRunStart(text, before: start), startOffset)
            }
            if token.rightStrip {
                stop = AddedVocabulary.whitespaceRunEnd(text, after: stop)
                i = stop
            }
            if startOffset < start { segments.append(Segment(start: startOffset, end: start, id: nil)) }
            segments.append(Segment(start: start, end: stop, id: token.id))
            startOffset = stop
        }
        if startOffset != text.count { segments.append(Segment(start: startOffset, end: text.count, id: nil)) }
        return segments
    }

    private static func scalarBefore(_ p: UnsafeBufferPointer<UInt8>, _ end: Int) -> (UInt32, Int) {
        var s = end - 1
        while s > 0, p[s] & 0xC0 == 0x80 { s -= 1 }
        return (UTF8Text.decode(p, at: s).scalar, s)
    }

    static func endsWithWordCharacter(_ p: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        end > 0 && CharacterClass.of(scalarBefore(p, end).0).contains(.word)
    }

    static func startsWithWordCharacter(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        start < p.count && CharacterClass.of(UTF8Text.decode(p, at: start).scalar).contains(.word)
    }

    static func whitespaceRunStart(_ p: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
        var start = end
        while start > 0 {
            let (scalar, s) = scalarBefore(p, start)
            guard CharacterClass.of(scalar).contains(.whitespace) else { break }
            start = s
        }
        return start
    }

    static func whitespaceRunEnd(_ p: UnsafeBufferPointer<UInt8>, after start: Int) -> Int {
        var end = start
        while end < p.count {
            let (scalar, length) = UTF8Text.decode(p, at: end)
            guard CharacterClass.of(scalar).contains(.whitespace) else { break }
            end += length
        }
        return end
    }
}
