/// Unigram language-model tokenization as in tokenizer.json (`"type": "Unigram"`): the
/// segmentation with the highest total piece score (Viterbi over every vocabulary entry
/// that starts at each character), unknown characters scored min_score - 10 and fused.
struct UnigramModel: TokenizerModel {
    let idToToken: [String?]
    private let scores: [Double]
    private let tokenIds: [String: Int32]
    private let trie: ByteTrie
    private let unknownId: Int32?
    private let unknownScore: Double
    /// Id of each `<0xXX>` token (-1 when absent), when byte fallback is on.
    private let byteFallbackIds: [Int32]?

    init(vocab: [(String, Double)], unknownId: Int?, byteFallback: Bool) throws(TokenizerError) {
        guard !vocab.isEmpty else { throw TokenizerError.format("Unigram vocabulary is empty") }
        if let unknownId, unknownId < 0 || unknownId >= vocab.count {
            throw TokenizerError.format("Unigram unk_id \(unknownId) is outside the vocabulary")
        }
        var tokenIds: [String: Int32] = [:]
        var trie = ByteTrie()
        var minScore = Double.infinity
        for (id, (token, score)) in vocab.enumerated() {
            tokenIds[token] = Int32(id)
            // A repeated token resolves to its last id, like the reference's map.
            trie.insert(Array(token.utf8), value: Int32(id), replace: true)
            minScore = min(minScore, score)
        }
        self.idToToken = vocab.map { $0.0 }
        self.scores = vocab.map { $0.1 }
        self.tokenIds = tokenIds
        self.trie = trie
        self.unknownId = unknownId.map { Int32($0) }
        self.unknownScore = minScore - 10.0
        if byteFallback {
            byteFallbackIds = (0..<256).map { tokenIds[BPEModel.byteToken(UInt8($0))] ?? -1 }
        } else {
            byteFallbackIds = nil
        }
    }

    func tokenToId(_ token: String) -> Int32? { tokenIds[token] }

    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], scratch: EncodeScratch) {
        let size = word.count
        if size == 0 { return }
        // best[i]: score of the best path ending at byte i; start[i]: where its last piece
        // starts (-1: unreached); token[i]: the piece id (-1: unknown).
        scratch.doubles.removeAll(keepingCapacity: true)
        scratch.doubles.append(contentsOf: repeatElement(0, count: size + 1))
        scratch.starts.removeAll(keepingCapacity: true)
        scratch.starts.append(contentsOf: repeatElement(-1, count: size + 1))
        scratch.tokens.removeAll(keepingCapacity: true)
        scratch.tokens.append(contentsOf: repeatElement(-1, count: size + 1))
        var position = 0
        while position < size {
            let here = scratch.doubles[position]
            let characterLength = min(UTF8Text.sequenceLength(word[position]), size - position)
            var hasSingleNode = false
            trie.forEachPrefix(word, from: position) { length, id in
                let end = position + length
                let candidate = scores[Int(id)] + here
                if scratch.starts[end] < 0 || candidate > scratch.doubles[end] {
                    scratch.doubles[end] = candidate
                    scratch.starts[end] = Int32(position)
                    scratch.tokens[end] = id
                }
                if length == characterLength { hasSingleNode = true }
            }
            if !hasSingleNode, unknownId != nil {
                let end = position + characterLength
                let candidate = unknownScore + here
                if scratch.starts[end] < 0 || candidate > scratch.doubles[end] {
                    scratch.doubles[end] = candidate
                    scratch.starts[end] = Int32(position)
                    scratch.tokens[end] = -1
                }
            }
            position += characterLength
        }
        // Walk back; runs of unknown characters become one piece.
        var pieces: [(start: Int, end: Int, id: Int32)] = []
        var end = size
        while end > 0 {
            let start = Int(scratch.starts[end])
            guard start >= 0 else { return }  // unreachable without an unknown token: the reference fails too
            var id = scratch.tokens[end]
            if id == unknownId { id = -1 }  // a literal "<unk>" in the text fuses too, as in the reference
            if id < 0, let last = pieces.last, last.id < 0, last.start == end {
                pieces[pieces.count - 1].start = start
            } else {
                pieces.append((start, end, id))
            }
            end = start
        }
        for piece in pieces.reversed() {
            if piece.id >= 0 {
                ids.append(piece.id)
                continue
            }
            let text = UnsafeBufferPointer(rebasing: word[piece.start..<piece.end])
            if let id = tokenIds[String(decoding: text, as: UTF8.self)] {
                ids.append(id)
            } else if let byteFallbackIds, text.allSatisfy({ byteFallbackIds[Int($0)] >= 0 }) {
                for b in text { ids.append(byteFallbackIds[Int(b)]) }
            } else if let unknownId {
                ids.append(unknownId)
            }
        }
    }
}
