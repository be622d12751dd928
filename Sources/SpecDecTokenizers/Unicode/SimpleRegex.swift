/// A small backtracking regular-expression engine for the patterns tokenizer.json files
/// put in Split pre-tokenizers and Replace normalizers/decoders. Swift's `Regex` needs
/// Foundation-free Unicode data we cannot rely on, and the reference (Oniguruma, Ruby
/// syntax) has its own semantics, so we implement the subset those files use:
/// literals and escapes, `.`, classes with ranges, `\s \S \d \D \w \W \h`, `\p{..}` general
/// categories, groups `(..)` `(?:..)` `(?i:..)` `(?i)`, alternation, greedy and lazy
/// quantifiers `* + ? {n} {n,} {n,m}`, lookahead `(?=..)` `(?!..)`, anchors `^ $ \A \z \Z \b \B`.
/// Matching is leftmost-first like Oniguruma. The hot patterns (GPT-2, Llama-3, Qwen2) have
/// hand-written scanners; this engine is the general fallback.
final class SimpleRegex: Sendable {
    let pattern: String
    private let nodes: [Node]
    private let root: Int

    indirect enum Node: Sendable {
        case scalar(UInt32, caseInsensitive: Bool)
        case set(ScalarSet, caseInsensitive: Bool)
        case any
        case sequence([Int])
        case alternation([Int])
        case repeatNode(Int, min: Int, max: Int, greedy: Bool)
        case lookahead(Int, negative: Bool)
        case lineStart, lineEnd, textStart, textEnd, textEndBeforeNewline, wordBoundary, notWordBoundary
        case empty
    }

    struct ScalarSet: Sendable {
        var ranges: [ClosedRange<UInt32>] = []
        var classes: [(CharacterClass, negated: Bool)] = []
        var categories: [(Set<Unicode.GeneralCategory>, negated: Bool)] = []
        var negated = false

        func contains(_ scalar: UInt32) -> Bool {
            var found = false
            for range in ranges where range.contains(scalar) { found = true; break }
            if !found {
                let cls = CharacterClass.of(scalar)
                for (c, negated) in classes where cls.isDisjoint(with: c) == negated { found = true; break }
            }
            if !found, !categories.isEmpty, let s = Unicode.Scalar(scalar) {
                let category = s.properties.generalCategory
                for (set, negated) in categories where set.contains(category) != negated { found = true; break }
            }
            return found != negated
        }
    }

    init(_ pattern: String) throws(TokenizerError) {
        self.pattern = pattern
        var parser = Parser(scalars: pattern.unicodeScalars.map { $0.value }, pattern: pattern)
        let root = try parser.parseAlternation()
        if parser.index < parser.scalars.count {
            throw TokenizerError.unsupported("regex \(pattern): unexpected ')' at \(parser.index)")
        }
        self.nodes = parser.nodes
        self.root = root
    }

    /// Non-overlapping matches in `text[start..<end]` (UTF-8), as byte ranges, the way
    /// Oniguruma's find_iter reports them (an empty match advances one character).
    func matches(in text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> [(Int, Int)] {
        var scalars: [UInt32] = []
        var offsets: [Int] = []
        var i = start
        while i < end {
            let (scalar, length) = UTF8Text.decode(text, at: i)
            scalars.append(scalar)
            offsets.append(i)
            i += length
        }
        offsets.append(end)
        var result: [(Int, Int)] = []
        let matcher = Matcher(nodes: nodes, text: scalars)
        // The onig crate's find_iter: search from the end of the last match; an empty match
        // right where the previous match ended is skipped by moving one character on.
        var lastEnd = 0
        var lastMatchEnd = -1
        search: while lastEnd <= scalars.count {
            var position = lastEnd
            while position <= scalars.count {
                if let matchEnd = matcher.match(root, position) {
                    if matchEnd == position && lastMatchEnd == matchEnd {
                        lastEnd += 1
                        continue search
                    }
                    result.append((offsets[position], offsets[matchEnd]))
                    lastEnd = matchEnd
                    lastMatchEnd = matchEnd
                    continue search
                }
                position += 1
            }
            break
        }
        return result
    }

    /// Oniguruma's `\w` is the Unicode word property (Alphabetic, marks, Nd, Pc, Join_Control:
    /// CharacterClass.word), except that outside brackets it also takes these six Latin-1
    /// numbers (measured against the reference: `\w` matches "²", `[\w]` does not).
    static let latin1WordNumbers: [ClosedRange<UInt32>] = [0xB2...0xB3, 0xB9...0xB9, 0xBC...0xBE]

    static func isWord(_ scalar: UInt32) -> Bool {
        if CharacterClass.of(scalar).contains(.word) { return true }
        return latin1WordNumbers.contains { $0.contains(scalar) }
    }

    static func foldEqual(_ a: UInt32, _ b: UInt32) -> Bool {
        foldVariants(a).contains(b)
    }

    /// The scalars that simple case folding makes equal to `c` (for ASCII and the common
    /// special cases Oniguruma folds: long s, Kelvin sign, Angstrom sign).
    static func foldVariants(_ c: UInt32) -> [UInt32] {
        var result: [UInt32] = [c]
        guard let scalar = Unicode.Scalar(c) else { return result }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        let upper = scalar.properties.uppercaseMapping.unicodeScalars
        if lower.count == 1, let l = lower.first?.value, l != c { result.append(l) }
        if upper.count == 1, let u = upper.first?.value, u != c { result.append(u) }
        switch c {
        case 0x73, 0x53: result.append(0x17F)
        case 0x17F: result.append(contentsOf: [0x73, 0x53])
        case 0x6B, 0x4B: result.append(0x212A)
        case 0x212A: result.append(contentsOf: [0x6B, 0x4B])
        case 0xE5, 0xC5: result.append(0x212B)
        case 0x212B: result.append(contentsOf: [0xE5, 0xC5])
        default: break
        }
        return result
    }
}
