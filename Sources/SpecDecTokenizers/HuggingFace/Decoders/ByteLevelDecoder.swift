/// `ByteLevel`: maps the GPT-2 alphabet back to bytes over all tokens and decodes the
/// result as UTF-8, replacing invalid sequences with U+FFFD. A token with a character
/// outside the alphabet (an added token) contributes its own UTF-8.
struct ByteLevelDecoder: Decoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens { ByteLevelDecoder.appendBytes(of: token, to: &bytes) }
        return [UTF8Text.decodeLossy(bytes)]
    }

    static func appendBytes(of token: String, to bytes: inout [UInt8]) {
        if let raw = ByteLevelAlphabet.unmap(token) {
            bytes.append(contentsOf: raw)
        } else {
            bytes.append(contentsOf: token.utf8)
        }
    }
}
