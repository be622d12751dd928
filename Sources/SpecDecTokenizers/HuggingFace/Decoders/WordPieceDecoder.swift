/// `WordPiece`: joins "##" continuations and puts spaces before other tokens, with the
/// optional English clean-up of spaces before punctuation and contractions.
struct WordPieceDecoder: Decoder {
    let prefix: String
    let cleanup: Bool

    static func cleanUp(_ text: String) -> String {
        var s = text
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = replaceAll(s, from, to)
        }
        return s
    }

    static func replaceAll(_ text: String, _ from: String, _ to: String) -> String {
        let out = TextPattern.literal(Array(from.utf8)).replace(in: Array(text.utf8), with: Array(to.utf8))
        return String(decoding: out, as: UTF8.self)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var token = token
            if index != 0 {
                if !prefix.isEmpty, token.utf8.starts(with: prefix.utf8) {
                    token = String(decoding: token.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                } else {
                    token = " " + token
                }
            }
            return cleanup ? WordPieceDecoder.cleanUp(token) : token
        }
    }
}
