/// `StripAccents`: removes combining marks (general category M, as the reference's
/// Unicode tables have it). It does not decompose first: tokenizer.json files put NFD or
/// NFKD in front of it.
struct StripAccentsNormalizer: Normalizer {
    let isAccent: @Sendable (UInt32) -> Bool

    /// StripAccents' marks (M*); BertNormalizer passes its narrower nonspacing-mark test.
    init(isAccent: @escaping @Sendable (UInt32) -> Bool = LegacyCategories.isCombiningMark) {
        self.isAccent = isAccent
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        UTF8Text.transformScalars(text) { c, bytes, out in
            if c < 0x300 || !isAccent(c) { out.append(contentsOf: bytes) }
        }
    }
}
