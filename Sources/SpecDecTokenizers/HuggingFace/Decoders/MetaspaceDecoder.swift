/// `Metaspace`: "▁" back to spaces; in the first token the replacement is dropped (the
/// prepended space) unless the prepend scheme is "never".
struct MetaspaceDecoder: Decoder {
    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var out = ""
            for c in token.unicodeScalars {
                if c == replacement {
                    if index == 0 && prependScheme != .never { continue }
                    out.unicodeScalars.append(" ")
                } else {
                    out.unicodeScalars.append(c)
                }
            }
            return out
        }
    }
}
