/// WordLevel (`"type": "WordLevel"`): each pre-tokenized word is one vocabulary entry or
/// the unknown token.
struct WordLevelModel: TokenizerModel {
    let idToToken: [String?]
    private let tokenIds: [String: Int32]
    private let vocab: ByteStringMap
    private let unknownId: Int32?

    init(vocab entries: [(String, Int32)], unknownToken: String) throws(TokenizerError) {
        var tokenIds: [String: Int32] = [:]
        var vocab = ByteStringMap(capacity: entries.count)
        self.idToToken = try TokenIdTable.make(entries, kind: "WordLevel")
        for (token, id) in entries {
            tokenIds[token] = id
            vocab.set(Array(token.utf8), id)
        }
        self.tokenIds = tokenIds
        self.vocab = vocab
        self.unknownId = tokenIds[unknownToken]
    }

    func tokenToId(_ token: String) -> Int32? { tokenIds[token] }

    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], scratch: EncodeScratch) {
        if word.isEmpty { return }
        if let id = vocab.get(word) { ids.append(id) } else if let unknownId { ids.append(unknownId) }
    }
}
