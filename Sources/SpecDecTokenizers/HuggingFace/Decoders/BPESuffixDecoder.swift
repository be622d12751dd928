/// `BPEDecoder`: the end-of-word suffix becomes a space (nothing after the last token).
struct BPESuffixDecoder: Decoder {
    let suffix: String

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            WordPieceDecoder.replaceAll(token, suffix, index == tokens.count - 1 ? "" : " ")
        }
    }
}
