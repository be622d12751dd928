/// A tokenizer.json normalizer: rewrites the UTF-8 text of one segment (the text between
/// added tokens) before pre-tokenization. Offsets are not tracked: encoding needs ids only.
protocol Normalizer: Sendable {
    func normalize(_ text: [UInt8]) -> [UInt8]
}

/// `Sequence`: the normalizers in order.
struct SequenceNormalizer: Normalizer {
    let normalizers: [any Normalizer]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var text = text
        for normalizer in normalizers { text = normalizer.normalize(text) }
        return text
    }
}
