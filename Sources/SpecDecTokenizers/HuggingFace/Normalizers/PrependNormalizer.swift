/// `Prepend`: puts a string in front of non-empty text (Llama-2's "▁").
struct PrependNormalizer: Normalizer {
    let prefix: [UInt8]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.isEmpty ? text : prefix + text
    }
}
