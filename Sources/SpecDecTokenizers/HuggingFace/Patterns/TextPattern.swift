/// A pattern from tokenizer.json (`{"String": ...}` or `{"Regex": ...}`) that Split,
/// Replace normalizers and Replace decoders search for.
enum TextPattern: Sendable {
    case literal([UInt8])
    case gpt2
    case llama3(maxDigits: Int)
    case regex(SimpleRegex)

    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Source = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Source = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Recognises the patterns that have a dedicated scanner; compiles the others.
    static func regex(_ source: String) throws(TokenizerError) -> TextPattern {
        switch source {
        case gpt2Source: return .gpt2
        case llama3Source: return .llama3(maxDigits: 3)
        case qwen2Source: return .llama3(maxDigits: 1)
        default: return .regex(try SimpleRegex(source))
        }
    }

    /// Calls `body` with each non-overlapping match in `p[start..<end]`, left to right.
    func forEachMatch(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void) {
        switch self {
        case .literal(let needle):
            guard !needle.isEmpty, let first = needle.first else { return }
            var i = start
            let n = needle.count
            while i + n <= end {
                if p[i] == first {
                    var k = 1
                    while k < n, p[i + k] == needle[k] { k += 1 }
                    if k == n { body(i, i + n); i += n; continue }
                }
                i += 1
            }
        case .gpt2:
            PreTokenizerScanners.gpt2(p, start, end, body)
        case .llama3(let maxDigits):
            PreTokenizerScanners.llama3(p, start, end, maxDigits: maxDigits, body)
        case .regex(let regex):
            for (s, e) in regex.matches(in: p, from: start, to: end) { body(s, e) }
        }
    }

    /// Replaces every match in `text` with `content`.
    func replace(in text: [UInt8], with content: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { p in
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            var last = 0
            forEachMatch(p, 0, p.count) { s, e in
                out.append(contentsOf: p[last..<s])
                out.append(contentsOf: content)
                last = e
            }
            if last == 0 && out.isEmpty { return text }
            out.append(contentsOf: p[last..<p.count])
            return out
        }
    }
}
