/// A Hugging Face tokenizer.json pipeline: added tokens, normalizer, pre-tokenizer, model,
/// post-processor on the way in; the decoder chain on the way out. Immutable once built.
public final class HFTokenizer: Tokenizer {
    let addedVocabulary: AddedVocabulary
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: any TokenizerModel
    let postProcessor: (any PostProcessor)?
    let decoder: (any Decoder)?
    public let vocabSize: Int
    public let specialTokens: SpecialTokenIds
    private let addedById: [Int32: AddedToken]
    private let addedByContent: [String: Int32]

    init(addedVocabulary: AddedVocabulary, normalizer: (any Normalizer)?, preTokenizer: (any PreTokenizer)?,
         model: any TokenizerModel, postProcessor: (any PostProcessor)?, decoder: (any Decoder)?,
         specialTokenNames: SpecialTokenNames) {
        self.addedVocabulary = addedVocabulary
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.decoder = decoder
        var addedById: [Int32: AddedToken] = [:]
        var addedByContent: [String: Int32] = [:]
        var maxId = model.idToToken.count - 1
        for token in addedVocabulary.tokens where !token.content.isEmpty {
            addedById[token.id] = token
            addedByContent[token.content] = token.id
            maxId = max(maxId, Int(token.id))
        }
        self.addedById = addedById
        self.addedByContent = addedByContent
        self.vocabSize = maxId + 1
        func resolve(_ name: String?) -> Int32? {
            guard let name else { return nil }
            return addedByContent[name] ?? model.tokenToId(name)
        }
        self.specialTokens = SpecialTokenIds(bos: resolve(specialTokenNames.bos), eos: resolve(specialTokenNames.eos),
                                             pad: resolve(specialTokenNames.pad), unk: resolve(specialTokenNames.unk))
    }

    // MARK: - Encoding

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        let scratch = EncodeScratch()
        var text = text
        text.withUTF8 { bytes in
            for segment in addedVocabulary.split(bytes, normalized: false) {
                if let id = segment.id {
                    ids.append(id)
                    continue
                }
                var normalized = Array(UnsafeBufferPointer(rebasing: bytes[segment.start..<segment.end]))
                if let normalizer { normalized = normalizer.normalize(normalized) }
                normalized.withUnsafeBufferPointer { p in
                    for part in addedVocabulary.split(p, normalized: true) {
                        if let id = part.id {
                            ids.append(id)
                            continue
                        }
                        let atOrigin = segment.start == 0 && part.start == 0
                        tokenizeSegment(UnsafeBufferPointer(rebasing: p[part.start..<part.end]), atOrigin: atOrigin,
                                        into: &ids, scratch: scratch)
                    }
                }
            }
        }
        if let postProcessor { ids = postProcessor.process(ids, addSpecialTokens: addSpecialTokens) }
        return ids
    }

    private func tokenizeSegment(_ text: UnsafeBufferPointer<UInt8>, atOrigin: Bool, into ids: inout [Int32],
                                 scratch: EncodeScratch) {
        guard let preTokenizer else {
            model.tokenize(text, into: &ids, scratch: scratch)
            return
        }
        var buffer = PieceBuffer(bytes: Array(text), atOrigin: atOrigin)
        preTokenizer.preTokenize(&buffer)
        buffer.bytes.withUnsafeBufferPointer { p in
            for piece in buffer.pieces {
                model.tokenize(UnsafeBufferPointer(rebasing: p[piece.start..<piece.end]), into: &ids, scratch: scratch)
            }
        }
    }

    // MARK: - Decoding

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) throws(TokenizerError) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard id >= 0, Int(id) < vocabSize else {
                throw TokenizerError(.idOutOfRange, "token id \(id) is outside the vocabulary (size \(vocabSize))")
            }
            guard let token = addedVocabulary.decodedContent[id] ?? model.idToToken.token(at: Int(id)) else { continue }
            if skipSpecialTokens, addedVocabulary.specialContents.contains(token) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    // MARK: - Vocabulary

    public func idToPiece(_ id: Int32) -> String? {
        if let added = addedById[id] { return added.content }
        return model.idToToken.token(at: Int(id))
    }

    public func pieceToId(_ piece: String) -> Int32? {
        addedByContent[piece] ?? model.tokenToId(piece)
    }

    public func isSpecial(_ id: Int32) -> Bool {
        addedById[id]?.special ?? false
    }
}

extension Array where Element == String? {
    /// The token at `index`, or nil when the index is out of range or unused.
    func token(at index: Int) -> String? {
        index >= 0 && index < count ? self[index] : nil
    }
}

extension HFTokenizer: StreamingDecodeHints {
    var leadingSpaceIsStable: Bool { decoder == nil || decoder is ByteLevelDecoder }
}
