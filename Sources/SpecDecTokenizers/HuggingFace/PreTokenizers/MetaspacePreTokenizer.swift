/// When Metaspace puts a replacement character in front of a piece.
enum PrependScheme: String, Sendable {
    /// Always, unless the piece already starts with the replacement.
    case always
    /// Only for the piece that starts the input (not after an added token).
    case first
    case never
}

/// `Metaspace`: replaces spaces with "▁", prepends one per `prependScheme`, and optionally
/// splits before every "▁" (MergedWithNext).
struct MetaspacePreTokenizer: PreTokenizer {
    let replacement: [UInt8]
    let replacementScalar: UInt32
    let prependScheme: PrependScheme
    let splits: Bool

    init(replacement: UInt32, prependScheme: PrependScheme, split: Bool) {
        var bytes: [UInt8] = []
        UTF8Text.append(replacement, to: &bytes)
        self.replacement = bytes
        self.replacementScalar = replacement
        self.prependScheme = prependScheme
        self.splits = split
    }

    func preTokenize(_ buffer: inout PieceBuffer) {
        var pieces = buffer.pieces
        for k in pieces.indices {
            let piece = pieces[k]
            let start = buffer.bytes.count
            var rewritten: [UInt8] = []
            rewritten.reserveCapacity((piece.end - piece.start) + replacement.count * 4)
            for i in piece.start..<piece.end {
                let b = buffer.bytes[i]
                if b == 0x20 { rewritten.append(contentsOf: replacement) } else { rewritten.append(b) }
            }
            let startsWithReplacement = rewritten.starts(with: replacement)
            switch prependScheme {
            case .always where !startsWithReplacement, .first where !startsWithReplacement && piece.atOrigin:
                buffer.bytes.append(contentsOf: replacement)
            default:
                break
            }
            buffer.bytes.append(contentsOf: rewritten)
            pieces[k] = PieceBuffer.Piece(start: start, end: buffer.bytes.count, atOrigin: piece.atOrigin)
        }
        buffer.pieces = pieces
        if splits {
            let r = replacementScalar
            buffer.split(behavior: .mergedWithNext) { $0 == r }
        }
    }
}
