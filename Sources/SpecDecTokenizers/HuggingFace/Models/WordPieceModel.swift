/// WordPiece (`"type": "WordPiece"`, BERT): greedy longest-match-first, continuation
/// pieces spelled with a prefix ("##"); a word with any unmatchable part, or longer than
/// `maxInputCharsPerWord` characters, becomes the unknown token.
struct WordPieceModel: TokenizerModel {
    let idToToken: [String?]
    private let tokenIds: [String: Int32]
    private let vocab: ByteStringMap
    private let unknownId: Int32?
    private let prefix: [UInt8]
    private let maxInputCharsPerWord: Int

    init(vocab entries: [(String, Int32)], unknownToken: String, continuingSubwordPrefix: String,
         maxInputCharsPerWord: Int) throws(TokenizerError) {
        var tokenIds: [String: Int32] = [:]
        var vocab = ByteStringMap(capacity: entries.count)
        self.idToToken = try TokenIdTable.make(entries, kind: "WordPiece")
        for (token, id) in entries {
            tokenIds[token] = id
            vocab.set(Array(token.utf8), id)
        }
        self.tokenIds = tokenIds
        self.vocab = vocab
        self.unknownId = tokenIds[unknownToken]
        self.prefix = Array(continuingSubwordPrefix.utf8)
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    func tokenToId(_ token: String) -> Int32? { tokenIds[token] }

    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], scratch: EncodeScratch) {
        if word.isEmpty { return }
        var characters = 0
        for b in word where b & 0xC0 != 0x80 { characters += 1 }
        if characters > maxInputCharsPerWord {
            if let unknownId { ids.append(unknownId) }
            return
        }
        let mark = ids.count
        var start = 0
        var key: [UInt8] = []
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: prefix) }
                key.append(contentsOf: UnsafeBufferPointer(rebasing: word[start..<end]))
                if let id = vocab.get(key) { found = id; break }
                end -= 1
                while end > start, word[end] & 0xC0 == 0x80 { end -= 1 }
            }
            guard let id = found else {
                ids.removeLast(ids.count - mark)
                if let unknownId { ids.append(unknownId) }
                return
            }
            ids.append(id)
            start = end
        }
    }
}
