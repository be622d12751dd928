/// SentencePiece's unigram model, EncodeOptimized in unigram_model.cc: Viterbi over all
/// normal, user-defined (bonus score) and unused (skipped) pieces, scores in float the way
/// the C++ mixes float and double, unknown characters scored min_score - 10.
struct SentencePieceUnigram: SentencePieceModel {
    let vocabulary: SentencePieceVocabulary
    private let trie: ByteTrie
    private let scores: [Float]
    private let minScore: Float
    private let maxScore: Float

    init(vocabulary: SentencePieceVocabulary) throws(TokenizerError) {
        self.vocabulary = vocabulary
        var trie = ByteTrie()
        var minScore = Float.greatestFiniteMagnitude
        var maxScore = Float.leastNormalMagnitude  // FLT_MIN, as in the C++
        for (index, piece) in vocabulary.pieces.enumerated() {
            switch piece.type {
            case .normal, .userDefined, .unused:
                trie.insert(Array(piece.piece.utf8), value: Int32(index))
            default:
                break
            }
            if piece.type == .normal {
                minScore = min(minScore, piece.score)
                maxScore = max(maxScore, piece.score)
            }
        }
        guard !trie.isEmpty else { throw TokenizerError.format("SentencePiece model: no pieces are loaded") }
        self.trie = trie
        self.scores = vocabulary.pieces.map(\.score)
        self.minScore = minScore
        self.maxScore = maxScore
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into pieces: inout [SentencePieceSpan]) {
        let size = text.count
        if size == 0 { return }
        // Best path ending at each byte: score, start of its last piece (-1: unreached), id.
        struct Node {
            var score: Float = 0
            var start: Int32 = -1
            var id: Int32 = -1
        }
        var nodes = [Node](repeating: Node(), count: size + 1)
        let unknownScore = minScore - 10.0
        let unknownId = vocabulary.unknownId
        var position = 0
        while position < size {
            let here = nodes[position].score
            let characterLength = min(sentencePieceCharLength(text[position]), size - position)
            var hasSingleNode = false
            trie.forEachPrefix(text, from: position) { length, id in
                let type = vocabulary.type(id)
                if type == .unused { return }
                let end = position + length
                // Float sums, as the released sentencepiece computes them (a double sum
                // compared with the stored float breaks ties differently).
                let candidate: Float = type == .userDefined
                    ? Float(Double(Float(length) * maxScore) - 0.1 + Double(here))
                    : scores[Int(id)] + here
                if nodes[end].start == -1 || candidate > nodes[end].score {
                    nodes[end] = Node(score: candidate, start: Int32(position), id: id)
                }
                if length == characterLength { hasSingleNode = true }
            }
            if !hasSingleNode {
                let end = position + characterLength
                let candidate = unknownScore + here
                if nodes[end].start == -1 || candidate > nodes[end].score {
                    nodes[end] = Node(score: candidate, start: Int32(position), id: unknownId)
                }
            }
            position += characterLength
        }
        let first = pieces.count
        var end = size
        while end > 0 {
            let start = Int(nodes[end].start)
            guard start >= 0, start < end else { break }
            pieces.append(SentencePieceSpan(start: start, end: end, id: nodes[end].id))
            end = start
        }
        pieces[first...].reverse()
    }
}
