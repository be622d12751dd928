/// `Replace`: replaces every match of a string or regex pattern.
struct ReplaceNormalizer: Normalizer {
    let pattern: TextPattern
    let content: [UInt8]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        pattern.replace(in: text, with: content)
    }
}
