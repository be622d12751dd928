/// `Replace`: replaces every match of a pattern in each token.
struct ReplaceDecoder: Decoder {
    let pattern: TextPattern
    let content: [UInt8]

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            String(decoding: pattern.replace(in: Array(token.utf8), with: content), as: UTF8.self)
        }
    }
}
