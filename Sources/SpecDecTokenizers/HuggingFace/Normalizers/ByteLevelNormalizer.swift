/// The `ByteLevel` normalizer: maps every byte to its GPT-2 alphabet character.
struct ByteLevelNormalizer: Normalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 2)
        for b in text { UTF8Text.append(ByteLevelAlphabet.scalar(for: b), to: &out) }
        return out
    }
}
