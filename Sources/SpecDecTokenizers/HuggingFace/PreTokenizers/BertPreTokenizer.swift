/// `BertPreTokenizer`: splits on whitespace (dropped), then isolates punctuation.
struct BertPreTokenizer: PreTokenizer {
    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: .removed) { CharacterClass.of($0).contains(.whitespace) }
        buffer.split(behavior: .isolated, where: PunctuationPreTokenizer.isPunctuation)
    }
}
