/// `Whitespace`: runs of word characters and runs of other non-space characters
/// (the reference's `\w+|[^\w\s]+`); spaces are dropped.
struct WhitespacePreTokenizer: PreTokenizer {
    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split { p, piece, out in
            var i = piece.start
            var runStart = -1
            var runIsWord = false
            while i < piece.end {
                let (scalar, length) = UTF8Text.decode(p, at: i)
                let c = CharacterClass.of(scalar)
                if c.contains(.word) {
                    if runStart >= 0, !runIsWord { out.appendRange(runStart, i, origin: piece); runStart = -1 }
                    if runStart < 0 { runStart = i; runIsWord = true }
                } else if c.contains(.whitespace) {
                    if runStart >= 0 { out.appendRange(runStart, i, origin: piece); runStart = -1 }
                } else {
                    if runStart >= 0, runIsWord { out.appendRange(runStart, i, origin: piece); runStart = -1 }
                    if runStart < 0 { runStart = i; runIsWord = false }
                }
                i += length
            }
            if runStart >= 0 { out.appendRange(runStart, piece.end, origin: piece) }
        }
    }
}

/// `WhitespaceSplit`: splits on whitespace, which is dropped.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: .removed) { CharacterClass.of($0).contains(.whitespace) }
    }
}

/// `Digits`: isolates each digit, or each run of digits (Rust's `char::is_numeric`, N*).
struct DigitsPreTokenizer: PreTokenizer {
    let individualDigits: Bool

    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: individualDigits ? .isolated : .contiguous) { CharacterClass.of($0).contains(.number) }
    }
}

/// `Punctuation`: splits at ASCII punctuation and Unicode P* characters.
struct PunctuationPreTokenizer: PreTokenizer {
    let behavior: SplitBehavior

    static func isPunctuation(_ scalar: UInt32) -> Bool {
        if scalar < 0x80 {
            return (0x21...0x2F).contains(scalar) || (0x3A...0x40).contains(scalar)
                || (0x5B...0x60).contains(scalar) || (0x7B...0x7E).contains(scalar)
        }
        return CharacterClass.of(scalar).contains(.punctuation)
    }

    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: behavior, where: PunctuationPreTokenizer.isPunctuation)
    }
}

/// `BertPreTokenizer`: splits on whitespace (dropped), then isolates punctuation.
struct BertPreTokenizer: PreTokenizer {
    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: .removed) { CharacterClass.of($0).contains(.whitespace) }
        buffer.split(behavior: .isolated, where: PunctuationPreTokenizer.isPunctuation)
    }
}

/// `CharDelimiterSplit`: splits on one character, which is dropped.
struct CharDelimiterSplitPreTokenizer: PreTokenizer {
    let delimiter: UInt32

    func preTokenize(_ buffer: inout PieceBuffer) {
        let d = delimiter
        buffer.split(behavior: .removed) { $0 == d }
    }
}
