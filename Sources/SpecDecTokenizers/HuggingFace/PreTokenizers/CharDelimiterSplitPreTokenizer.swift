/// `CharDelimiterSplit`: splits on one character, which is dropped.
struct CharDelimiterSplitPreTokenizer: PreTokenizer {
    let delimiter: UInt32

    func preTokenize(_ buffer: inout PieceBuffer) {
        let d = delimiter
        buffer.split(behavior: .removed) { $0 == d }
    }
}
