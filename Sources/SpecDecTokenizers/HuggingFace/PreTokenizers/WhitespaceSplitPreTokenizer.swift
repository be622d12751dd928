/// `WhitespaceSplit`: splits on whitespace, which is dropped.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: .removed) { CharacterClass.of($0).contains(.whitespace) }
    }
}
