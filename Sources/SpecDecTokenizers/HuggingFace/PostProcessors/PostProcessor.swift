/// A tokenizer.json post-processor, reduced to what it does to ids: add special tokens
/// around the encoded text when the caller asks for them.
protocol PostProcessor: Sendable {
    func process(_ ids: [Int32], addSpecialTokens: Bool) -> [Int32]
}

/// `Sequence`: post-processors in order. (`ByteLevel` only touches offsets, so it is left out.)
struct SequencePostProcessor: PostProcessor {
    let processors: [any PostProcessor]

    func process(_ ids: [Int32], addSpecialTokens: Bool) -> [Int32] {
        var ids = ids
        for processor in processors { ids = processor.process(ids, addSpecialTokens: addSpecialTokens) }
        return ids
    }
}
