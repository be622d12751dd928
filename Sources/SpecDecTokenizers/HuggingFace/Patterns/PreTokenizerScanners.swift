/// Hand-written scanners for the split regexes of byte-level BPE tokenizers. They produce
/// exactly the matches Oniguruma finds for these patterns (leftmost-first alternation,
/// greedy runs, the `\s+(?!\S)` backtrack) at a fraction of a backtracking engine's cost.
enum PreTokenizerScanners {
    /// What the patterns distinguish about a scalar: `\p{L}`, `\p{N}`, `\s`, anything else.
    enum Kind: UInt8 { case letter, number, space, other }

    @inline(__always)
    static func kind(_ scalar: UInt32) -> Kind {
        let c = CharacterClass.of(scalar)
        if c.contains(.letter) { return .letter }
        if c.contains(.number) { return .number }
        if c.contains(.whitespace) { return .space }
        return .other
    }

    /// Kind of the scalar at `i` and its UTF-8 length, with an ASCII fast path.
    @inline(__always)
    static func kindAt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (Kind, Int) {
        let b = p[i]
        if b < 0x80 { return (Kind(rawValue: asciiKinds[Int(b)]) ?? .other, 1) }
        let (scalar, length) = UTF8Text.decode(p, at: i)
        return (kind(scalar), length)
    }

    static let asciiKinds: [UInt8] = (0..<128).map { kind(UInt32($0)).rawValue }

    /// End of the run of `kind` that starts at `i` (at most `limit` scalars).
    @inline(__always)
    static func runEnd(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, _ k: Kind, limit: Int = Int.max) -> Int {
        var j = i
        var count = 0
        while j < end, count < limit {
            let (kj, length) = kindAt(p, j)
            if kj != k { break }
            j += length
            count += 1
        }
        return j
    }

    /// `\s+(?!\S)|\s+` at `i`, which holds whitespace: the whole run if it reaches the end
    /// of the text or is one character long, otherwise the run minus its last character.
    @inline(__always)
    static func whitespaceMatchEnd(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var j = i
        var lastStart = i
        while j < end {
            let (kj, length) = kindAt(p, j)
            if kj != .space { break }
            lastStart = j
            j += length
        }
        if j == end || lastStart == i { return j }
        return lastStart
    }

    @inline(__always)
    static func isASCIILetter(_ b: UInt8, _ lower: UInt8) -> Bool { b | 0x20 == lower }

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    static func gpt2(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void) {
        var i = start
        while i < end {
            let b = p[i]
            if b == 0x27, i + 1 < end {
                let c1 = p[i + 1]
                if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 {  // s t m d
                    body(i, i + 2); i += 2; continue
                }
                if i + 2 < end {
                    let c2 = p[i + 2]
                    if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) {  // re ve ll
                        body(i, i + 3); i += 3; continue
                    }
                }
            }
            let (k0, length0) = kindAt(p, i)
            if b == 0x20, i + 1 < end {
                let (k1, length1) = kindAt(p, i + 1)
                if k1 != .space {
                    let j = runEnd(p, i + 1 + length1, end, k1)
                    body(i, j); i = j; continue
                }
            }
            let j: Int
            if k0 == .space {
                j = whitespaceMatchEnd(p, i, end)
            } else {
                j = runEnd(p, i + length0, end, k0)
            }
            body(i, j)
            i = j
        }
    }

    @inline(__always)
    static func isNewline(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }

    /// Llama-3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    static func llama3(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, maxDigits: Int, _ body: (Int, Int) -> Void) {
        var i = start
        while i < end {
            let b = p[i]
            if b == 0x27, i + 1 < end, let length = contractionLength(p, i + 1, end) {
                body(i, i + 1 + length); i += 1 + length; continue
            }
            let (k0, length0) = kindAt(p, i)
            switch k0 {
            case .letter:
                let j = runEnd(p, i + length0, end, .letter)
                body(i, j); i = j; continue
            case .number:
                let j = runEnd(p, i + length0, end, .number, limit: maxDigits - 1)
                body(i, j); i = j; continue
            case .space, .other:
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if !isNewline(b), i + length0 < end {
                    let (k1, length1) = kindAt(p, i + length0)
                    if k1 == .letter {
                        let j = runEnd(p, i + length0 + length1, end, .letter)
                        body(i, j); i = j; continue
                    }
                }
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            var otherStart = -1
            if k0 == .other {
                otherStart = i
            } else if b == 0x20, i + 1 < end, kindAt(p, i + 1).0 == .other {
                otherStart = i + 1
            }
            if otherStart >= 0 {
                var j = runEnd(p, otherStart, end, .other)
                while j < end, isNewline(p[j]) { j += 1 }
                body(i, j); i = j; continue
            }
            // k0 == .space: `\s*[\r\n]+`, then `\s+(?!\S)|\s+`.
            var j = i
            var lastNewline = -1
            while j < end {
                let (kj, length) = kindAt(p, j)
                if kj != .space { break }
                if isNewline(p[j]) { lastNewline = j }
                j += length
            }
            if lastNewline >= 0 {
                body(i, lastNewline + 1); i = lastNewline + 1; continue
            }
            let e = whitespaceMatchEnd(p, i, end)
            body(i, e)
            i = e
        }
    }

    /// Length after the apostrophe of `(?i:s|t|re|ve|m|ll|d)`, with Oniguruma's case folding
    /// (which also folds U+017F LATIN SMALL LETTER LONG S to "s").
    @inline(__always)
    static func contractionLength(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        let c1 = p[i] | 0x20
        if p[i] < 0x80 {
            if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return 1 }
            if i + 1 < end, p[i + 1] < 0x80 {
                let c2 = p[i + 1] | 0x20
                if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) { return 2 }
            }
            return nil
        }
        if p[i] == 0xC5, i + 1 < end, p[i + 1] == 0xBF { return 2 }  // ſ
        return nil
    }
}
