/// What a split does with the matched delimiters (tokenizer.json `behavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// Turns the alternating (range, isMatch) spans of one piece into pieces, following
    /// NormalizedString::split in the reference.
    func apply(_ spans: [(start: Int, end: Int, isMatch: Bool)], origin: PieceBuffer.Piece, into out: inout [PieceBuffer.Piece]) {
        switch self {
        case .isolated:
            for span in spans { out.appendRange(span.start, span.end, origin: origin) }
        case .removed:
            for span in spans where !span.isMatch { out.appendRange(span.start, span.end, origin: origin) }
        case .contiguous:
            var merged: [(Int, Int)] = []
            var previous = false
            for span in spans {
                if span.isMatch == previous, !merged.isEmpty {
                    merged[merged.count - 1].1 = span.end
                } else {
                    merged.append((span.start, span.end))
                }
                previous = span.isMatch
            }
            for (s, e) in merged { out.appendRange(s, e, origin: origin) }
        case .mergedWithPrevious:
            var merged: [(Int, Int)] = []
            var previous = false
            for span in spans {
                if span.isMatch && !previous, !merged.isEmpty {
                    merged[merged.count - 1].1 = span.end
                } else {
                    merged.append((span.start, span.end))
                }
                previous = span.isMatch
            }
            for (s, e) in merged { out.appendRange(s, e, origin: origin) }
        case .mergedWithNext:
            var merged: [(Int, Int)] = []
            var previous = false
            for span in spans.reversed() {
                if span.isMatch && !previous, !merged.isEmpty {
                    merged[merged.count - 1].0 = span.start
                } else {
                    merged.append((span.start, span.end))
                }
                previous = span.isMatch
            }
            for (s, e) in merged.reversed() { out.appendRange(s, e, origin: origin) }
        }
    }
}

extension PieceBuffer {
    /// Splits every piece where `isDelimiter` holds for a scalar; each delimiter scalar is
    /// its own match, as for the reference's `Fn(char) -> bool` patterns.
    mutating func split(behavior: SplitBehavior, invert: Bool = false, where isDelimiter: (UInt32) -> Bool) {
        split { p, piece, out in
            var spans: [(start: Int, end: Int, isMatch: Bool)] = []
            var last = piece.start
            var i = piece.start
            while i < piece.end {
                let (scalar, length) = UTF8Text.decode(p, at: i)
                if isDelimiter(scalar) != invert {
                    if last < i { spans.append((last, i, invert)) }
                    spans.append((i, i + length, !invert))
                    last = i + length
                }
                i += length
            }
            if last < piece.end { spans.append((last, piece.end, invert)) }
            behavior.apply(spans, origin: piece, into: &out)
        }
    }

    /// Splits every piece at the matches of `pattern`.
    mutating func split(pattern: TextPattern, behavior: SplitBehavior, invert: Bool) {
        split { p, piece, out in
            var spans: [(start: Int, end: Int, isMatch: Bool)] = []
            var last = piece.start
            pattern.forEachMatch(p, piece.start, piece.end) { s, e in
                if last < s { spans.append((last, s, invert)) }
                spans.append((s, e, !invert))
                last = e
            }
            if last < piece.end { spans.append((last, piece.end, invert)) }
            behavior.apply(spans, origin: piece, into: &out)
        }
    }
}
