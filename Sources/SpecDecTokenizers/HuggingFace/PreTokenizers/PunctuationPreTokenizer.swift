/// `Punctuation`: splits at ASCII punctuation and Unicode P* characters (by the
/// reference's own, older, Unicode tables).
struct PunctuationPreTokenizer: PreTokenizer {
    let behavior: SplitBehavior

    static func isPunctuation(_ scalar: UInt32) -> Bool { LegacyCategories.isPunctuation(scalar) }

    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: behavior, where: PunctuationPreTokenizer.isPunctuation)
    }
}
