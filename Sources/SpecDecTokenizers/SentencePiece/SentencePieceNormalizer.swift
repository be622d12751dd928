/// SentencePiece's normalizer (normalizer.cc): longest-match rewriting with the precompiled
/// charsmap (nmt_nfkc and friends, applied exactly since the map itself is in the model),
/// user-defined symbols kept verbatim, extra whitespace removed, the dummy "▁" prefix
/// added and spaces escaped to "▁".
struct SentencePieceNormalizer: Sendable {
    let spec: SentencePieceModelProto.NormalizerSpec
    let charsMap: PrecompiledCharsMap?
    let treatWhitespaceAsSuffix: Bool
    /// User-defined symbols, matched before the charsmap and never rewritten.
    let userDefined: ByteTrie

    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

    init(spec: SentencePieceModelProto.NormalizerSpec, treatWhitespaceAsSuffix: Bool, userDefined: ByteTrie) throws(TokenizerError) {
        self.spec = spec
        self.charsMap = spec.precompiledCharsMap.isEmpty ? nil : try PrecompiledCharsMap(blob: spec.precompiledCharsMap)
        self.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix
        self.userDefined = userDefined
    }

    /// What the prefix of the input becomes: kept as is, or a replacement string.
    private enum Prefix {
        case original(Int)
        case replacement(ArraySlice<UInt8>, consumed: Int)
    }

    /// The normalized form of the prefix of `input[i...]` (NormalizePrefix).
    private func normalizePrefix(_ input: UnsafeBufferPointer<UInt8>, _ i: Int) -> Prefix {
        if !userDefined.isEmpty, let (length, _) = userDefined.longestPrefix(input, from: i) {
            return .original(length)
        }
        if let charsMap {
            var longest = 0
            var value: UInt32 = 0
            charsMap.trie.forEachPrefix(input, from: i, to: input.count, stopAtNul: false) { length, v in
                if longest == 0 || length > longest {
                    longest = length
                    value = v
                }
            }
            if longest > 0 { return .replacement(charsMap.replacement(at: value) ?? [], consumed: longest) }
        }
        let length = UTF8Text.validSequenceLength(input, at: i)
        if length == 0 { return .replacement(SentencePieceNormalizer.replacementCharacter, consumed: 1) }
        return .original(length)
    }

    private static let replacementCharacter: ArraySlice<UInt8> = [0xEF, 0xBF, 0xBD]

    /// Calls `body` with the normalized bytes of the prefix and returns the bytes consumed.
    @inline(__always)
    private func withPrefix<R>(_ input: UnsafeBufferPointer<UInt8>, _ i: Int,
                               _ body: (UnsafeBufferPointer<UInt8>) -> R) -> (R, Int) {
        switch normalizePrefix(input, i) {
        case .original(let length):
            return (body(UnsafeBufferPointer(rebasing: input[i..<i + length])), length)
        case .replacement(let bytes, let consumed):
            return (bytes.withUnsafeBufferPointer { body($0) }, consumed)
        }
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { input in
            var out: [UInt8] = []
            var i = 0
            let space: UInt8 = 0x20
            if spec.removeExtraWhitespaces {
                while i < input.count {
                    let (isSpace, consumed) = withPrefix(input, i) { $0.count == 1 && $0[0] == space }
                    if !isSpace { break }
                    i += consumed
                }
            }
            if i >= input.count { return [] }
            out.reserveCapacity(input.count * 3 / 2 + 3)
            func addWhitespace() {
                if spec.escapeWhitespaces { out.append(contentsOf: SentencePieceNormalizer.spaceSymbol) } else { out.append(space) }
            }
            if !treatWhitespaceAsSuffix && spec.addDummyPrefix { addWhitespace() }
            var isPreviousSpace = spec.removeExtraWhitespaces
            while i < input.count {
                let (_, consumed) = withPrefix(input, i) { piece in
                    var start = 0
                    while isPreviousSpace, start < piece.count, piece[start] == space { start += 1 }
                    guard start < piece.count else { return }
                    for b in piece[start...] {
                        if spec.escapeWhitespaces && b == space {
                            out.append(contentsOf: SentencePieceNormalizer.spaceSymbol)
                        } else {
                            out.append(b)
                        }
                    }
                    isPreviousSpace = piece[piece.count - 1] == space
                }
                i += consumed
                if !spec.removeExtraWhitespaces { isPreviousSpace = false }
            }
            if spec.removeExtraWhitespaces {
                let trailing: [UInt8] = spec.escapeWhitespaces ? SentencePieceNormalizer.spaceSymbol : [space]
                while out.count >= trailing.count, Array(out[(out.count - trailing.count)...]) == trailing {
                    out.removeLast(trailing.count)
                }
            }
            if treatWhitespaceAsSuffix && spec.addDummyPrefix { addWhitespace() }
            return out
        }
    }
}
