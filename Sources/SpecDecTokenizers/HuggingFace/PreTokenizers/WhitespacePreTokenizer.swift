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
