/// `Split`: cuts pieces at the matches of a string or regex pattern.
struct SplitPreTokenizer: PreTokenizer {
    let pattern: TextPattern
    let behavior: SplitBehavior
    let invert: Bool

    func preTokenize(_ buffer: inout PieceBuffer) {
        if !invert, isScanner {
            // The byte-level scanners cover every character, so Isolated needs no span list.
            buffer.split { p, piece, out in
                pattern.forEachMatch(p, piece.start, piece.end) { s, e in out.appendRange(s, e, origin: piece) }
            }
            return
        }
        buffer.split(pattern: pattern, behavior: behavior, invert: invert)
    }

    private var isScanner: Bool {
        guard case .isolated = behavior else { return false }
        switch pattern {
        case .gpt2, .llama3: return true
        default: return false
        }
    }
}
