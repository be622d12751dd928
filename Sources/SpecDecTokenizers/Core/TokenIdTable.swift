/// The id → token table of a vocabulary, as long as its largest id + 1. A file whose ids
/// are far sparser than its entries (an id of 2^31 in a ten-entry vocab.json) would have it
/// ask for gigabytes, so such ids are refused before anything is sized from them: ids must
/// be below 2^24 and below twice the entry count plus 1024 (real vocabularies are dense).
enum TokenIdTable {
    static let idLimit = 1 << 24

    /// `tokens[id]` for every entry; nil where no entry has that id.
    /// - kind: the vocabulary's name in messages ("BPE", "WordPiece", "Marian vocab.json").
    static func make(_ entries: [(String, Int32)], kind: String) throws(TokenizerError) -> [String?] {
        var maxId = -1
        for (_, id) in entries {
            guard id >= 0 else { throw TokenizerError.format("\(kind) vocabulary id \(id) is negative") }
            maxId = max(maxId, Int(id))
        }
        guard maxId < idLimit, maxId < 2 * entries.count + 1024 else {
            throw TokenizerError.format("\(kind) vocabulary: id \(maxId) is far beyond its \(entries.count) entries (ids must be below \(min(idLimit, 2 * entries.count + 1024)))")
        }
        var tokens = [String?](repeating: nil, count: maxId + 1)
        for (token, id) in entries { tokens[Int(id)] = token }
        return tokens
    }
}
