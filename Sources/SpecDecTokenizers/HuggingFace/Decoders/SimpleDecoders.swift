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

/// `ByteFallback`: runs of `<0xXX>` tokens become their UTF-8 text, or one U+FFFD per byte
/// when the run as a whole is not valid UTF-8.
struct ByteFallbackDecoder: Decoder {
    static func byteValue(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        guard let high = hexDigit(u[3]), let low = hexDigit(u[4]) else { return nil }
        return high << 4 | low
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(tokens.count)
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if UTF8Text.isValid(pending) {
                out.append(String(decoding: pending, as: UTF8.self))
            } else {
                for _ in pending { out.append("\u{FFFD}") }
            }
            pending.removeAll()
        }
        for token in tokens {
            if let b = ByteFallbackDecoder.byteValue(token) {
                pending.append(b)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}

/// `Fuse`: joins all tokens into one.
struct FuseDecoder: Decoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// `Strip`: removes up to `start` leading and `stop` trailing `content` characters from each token.
struct StripDecoder: Decoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var startCut = 0
            for i in 0..<min(start, scalars.count) {
                guard scalars[i] == content else { break }
                startCut = i + 1
            }
            var stopCut = scalars.count
            for i in 0..<min(stop, scalars.count) {
                let index = scalars.count - i - 1
                guard scalars[index] == content else { break }
                stopCut = index
            }
            guard startCut < stopCut else { return "" }
            var out = ""
            out.unicodeScalars.append(contentsOf: scalars[startCut..<stopCut])
            return out
        }
    }
}

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

/// `BPEDecoder`: the end-of-word suffix becomes a space (nothing after the last token).
struct BPESuffixDecoder: Decoder {
    let suffix: String

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            WordPieceDecoder.replaceAll(token, suffix, index == tokens.count - 1 ? "" : " ")
        }
    }
}
