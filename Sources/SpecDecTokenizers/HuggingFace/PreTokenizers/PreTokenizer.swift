/// A tokenizer.json pre-tokenizer: cuts (and for some, rewrites) the pieces of a segment.
protocol PreTokenizer: Sendable {
    func preTokenize(_ buffer: inout PieceBuffer)
}

/// `Sequence`: the pre-tokenizers in order, each applied to every piece of the previous.
struct SequencePreTokenizer: PreTokenizer {
    let preTokenizers: [any PreTokenizer]

    func preTokenize(_ buffer: inout PieceBuffer) {
        for preTokenizer in preTokenizers { preTokenizer.preTokenize(&buffer) }
    }
}
