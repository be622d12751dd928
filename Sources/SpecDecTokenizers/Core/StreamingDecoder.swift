/// Decodes ids as they are generated, one at a time, and returns only text that is final:
/// a character spread over several byte tokens appears once all its bytes have arrived.
/// The pieces it returns, with `finish()`, concatenate to `decode(allIds)`. One exception:
/// HF's ByteFallback decoder turns a whole run of byte tokens into U+FFFDs when the run
/// ends invalid, so a character already returned from such a run cannot be taken back
/// (only ill-formed byte sequences, which real text does not produce, are affected).
///
/// It decodes a short window of recent ids and returns what the window's text gained over
/// the text of its first ids. Decoders treat the first token of a sequence specially
/// (Metaspace drops its leading "▁", Llama's Strip removes one leading space, SentencePiece
/// drops the dummy prefix), so the window is only moved up to an *anchor*: a token whose
/// text on its own is non-empty, starts with no whitespace and holds no partial character.
/// From such a token on, the window decodes the same as the full sequence does.
public struct StreamingDecoder {
    public let tokenizer: any Tokenizer
    public let skipSpecialTokens: Bool
    private var window: [Int32] = []
    /// decode(window) as of the last returned text, in UTF-8.
    private var emitted: [UInt8] = []

    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the new complete text, or nil while a character is incomplete
    /// (or the id adds no text). Throws `.idOutOfRange` for an id outside the vocabulary,
    /// leaving the decoder as it was.
    public mutating func step(_ id: Int32) throws(TokenizerError) -> String? {
        guard id >= 0, Int(id) < tokenizer.vocabSize else {
            throw TokenizerError(.idOutOfRange, "token id \(id) is outside the vocabulary (size \(tokenizer.vocabSize))")
        }
        window.append(id)
        let text = Array(try tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens).utf8)
        guard text.count > emitted.count, !StreamingDecoder.endsWithReplacement(text) else { return nil }
        let fresh = emit(text)
        try advanceWindow()
        return fresh
    }

    /// Returns whatever text is still held back (an incomplete character decodes to U+FFFD,
    /// as in the full decode) and starts over.
    public mutating func finish() throws(TokenizerError) -> String? {
        defer { reset() }
        let text = Array(try tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens).utf8)
        guard text.count > emitted.count else { return nil }
        return emit(text)
    }

    public mutating func reset() {
        window.removeAll(keepingCapacity: true)
        emitted.removeAll(keepingCapacity: true)
    }

    private mutating func emit(_ text: [UInt8]) -> String {
        // The window text normally extends what was returned; if a decoder rewrote earlier
        // text (an invalid byte sequence completed later), return from the first difference.
        var common = 0
        let limit = min(emitted.count, text.count)
        while common < limit, emitted[common] == text[common] { common += 1 }
        while common > 0, common < text.count, text[common] & 0xC0 == 0x80 { common -= 1 }
        emitted = text
        return String(decoding: text[common...], as: UTF8.self)
    }

    /// Drops ids before the last anchor, so each step decodes a bounded window.
    private mutating func advanceWindow() throws(TokenizerError) {
        guard window.count > 8 else { return }
        var anchor = window.count - 1
        while anchor > 0 {
            if try isAnchor(window[anchor]) { break }
            anchor -= 1
        }
        guard anchor > 0 else { return }
        window.removeFirst(anchor)
        emitted = Array(try tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens).utf8)
    }

    private func isAnchor(_ id: Int32) throws(TokenizerError) -> Bool {
        if skipSpecialTokens, tokenizer.isSpecial(id) { return false }
        let text = try tokenizer.decode([id], skipSpecialTokens: skipSpecialTokens)
        guard let first = text.unicodeScalars.first else { return false }
        if first.properties.isWhitespace, !((tokenizer as? any StreamingDecodeHints)?.leadingSpaceIsStable ?? false) {
            return false
        }
        return !text.unicodeScalars.contains("\u{FFFD}")
    }

    private static func endsWithReplacement(_ text: [UInt8]) -> Bool {
        text.count >= 3 && text[text.count - 3] == 0xEF && text[text.count - 2] == 0xBF && text[text.count - 1] == 0xBD
    }
}

/// What a tokenizer can tell the streaming decoder about its decoding.
protocol StreamingDecodeHints {
    /// True when no decoder step treats the first token specially (no stripped leading
    /// space), so a token with leading whitespace can start the window too.
    var leadingSpaceIsStable: Bool { get }
}
