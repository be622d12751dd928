/// A SentencePiece `.model` file, encoded and decoded as the `sentencepiece` package does.
///
/// `encode(text, addSpecialTokens: true)` adds the BOS id in front (as Llama's tokenizer
/// does) and/or EOS at the end, per `addBOS` / `addEOS`; SentencePiece itself adds neither.
/// `decode(skipSpecialTokens: true)` leaves out control and unknown pieces.
public final class SentencePieceTokenizer: Tokenizer {
    let proto: SentencePieceModelProto
    let vocabulary: SentencePieceVocabulary
    let normalizer: SentencePieceNormalizer
    let denormalizer: SentencePieceNormalizer?
    let model: any SentencePieceModel
    public let specialTokens: SpecialTokenIds
    public let addBOS: Bool
    public let addEOS: Bool

    public var vocabSize: Int { vocabulary.pieces.count }

    public static func load(path: String, addBOS: Bool = true, addEOS: Bool = false) throws(TokenizerError) -> SentencePieceTokenizer {
        try SentencePieceTokenizer(bytes: try FileBytes.read(path), addBOS: addBOS, addEOS: addEOS)
    }

    public init(bytes: [UInt8], addBOS: Bool = true, addEOS: Bool = false) throws(TokenizerError) {
        let proto = try SentencePieceModelProto(bytes: bytes)
        let vocabulary = try SentencePieceVocabulary(proto)
        self.proto = proto
        self.vocabulary = vocabulary
        self.normalizer = try SentencePieceNormalizer(spec: proto.normalizer, treatWhitespaceAsSuffix: proto.treatWhitespaceAsSuffix,
                                                      userDefined: vocabulary.userDefined)
        if let spec = proto.denormalizer, !spec.precompiledCharsMap.isEmpty {
            self.denormalizer = try SentencePieceNormalizer(spec: spec, treatWhitespaceAsSuffix: false, userDefined: ByteTrie())
        } else {
            self.denormalizer = nil
        }
        switch proto.modelType {
        case .unigram: self.model = try SentencePieceUnigram(vocabulary: vocabulary)
        case .bpe: self.model = SentencePieceBPE(vocabulary: vocabulary)
        case .word, .character:
            throw TokenizerError.unsupported("SentencePiece model type \(proto.modelType) (only unigram and BPE)")
        }
        let count = Int32(proto.pieces.count)
        func valid(_ id: Int32) -> Int32? { id >= 0 && id < count ? id : nil }
        self.specialTokens = SpecialTokenIds(bos: valid(proto.bosId), eos: valid(proto.eosId), pad: valid(proto.padId),
                                             unk: vocabulary.unknownId)
        self.addBOS = addBOS
        self.addEOS = addEOS
    }

    // MARK: - Encoding

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var ids: [Int32] = []
        if addSpecialTokens, addBOS, let bos = specialTokens.bos { ids.append(bos) }
        segment(text) { id, _ in ids.append(id) }
        if addSpecialTokens, addEOS, let eos = specialTokens.eos { ids.append(eos) }
        return ids
    }

    /// The pieces sentencepiece's `encode(text, out_type=str)` returns: vocabulary entries,
    /// `<0xXX>` for byte fallback, and the text itself for (merged) unknown pieces.
    public func encodeAsPieces(_ text: String) -> [String] {
        var pieces: [String] = []
        segment(text) { id, surface in
            pieces.append(surface.map { String(decoding: $0, as: UTF8.self) } ?? vocabulary.pieces[Int(id)].piece)
        }
        return pieces
    }

    /// Normalizes and segments `text`, reporting each id with its normalized text when that
    /// differs from the vocabulary entry (unknown pieces).
    private func segment(_ text: String, _ body: (Int32, ArraySlice<UInt8>?) -> Void) {
        let normalized = normalizer.normalize(Array(text.utf8))
        var spans: [SentencePieceSpan] = []
        spans.reserveCapacity(normalized.count / 2)
        normalized.withUnsafeBufferPointer { p in
            model.encode(p, into: &spans)
        }
        // PopulateSentencePieceText: unknown pieces become their bytes with byte fallback;
        // otherwise a run of unknown pieces becomes one unknown piece.
        var k = 0
        while k < spans.count {
            let span = spans[k]
            let isUnknown = vocabulary.type(span.id) == .unknown
            if isUnknown, let byteIds = vocabulary.byteIds {
                for b in normalized[span.start..<span.end] { body(byteIds[Int(b)], nil) }
                k += 1
            } else if isUnknown {
                var end = span.end
                k += 1
                while k < spans.count, vocabulary.type(spans[k].id) == .unknown {
                    end = spans[k].end
                    k += 1
                }
                body(span.id, normalized[span.start..<end])
            } else {
                body(span.id, nil)
                k += 1
            }
        }
    }

    // MARK: - Decoding

    /// SentencePieceProcessor::Decode: control pieces vanish, unknown ones show as
    /// " ⁇ ", byte runs are decoded (U+FFFD per invalid byte), "▁" becomes a space and the
    /// dummy-prefix space of the first piece is dropped.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) throws(TokenizerError) -> String {
        var text: [UInt8] = []
        var pendingBytes: [UInt8] = []
        var isBeginningWhitespace = true
        var beginningWhitespaceSeen = false
        let spec = proto.normalizer
        func flushBytes() {
            guard !pendingBytes.isEmpty else { return }
            pendingBytes.withUnsafeBufferPointer { p in
                var i = 0
                while i < p.count {
                    let length = UTF8Text.validSequenceLength(p, at: i)
                    if length == 0 {
                        text.append(contentsOf: [0xEF, 0xBF, 0xBD])
                        i += 1
                    } else {
                        text.append(contentsOf: p[i..<i + length])
                        i += length
                    }
                }
            }
            pendingBytes.removeAll()
        }
        for id in ids {
            guard id >= 0, Int(id) < vocabulary.pieces.count else {
                throw TokenizerError(.idOutOfRange, "token id \(id) is outside the vocabulary (size \(vocabulary.pieces.count))")
            }
            let piece = vocabulary.pieces[Int(id)]
            if skipSpecialTokens, piece.type == .control || piece.type == .unknown { continue }
            if piece.type == .byte {
                if let b = ByteFallbackDecoder.byteValue(piece.piece) { pendingBytes.append(b) }
                continue
            }
            flushBytes()
            if beginningWhitespaceSeen || !text.isEmpty { isBeginningWhitespace = false }
            switch piece.type {
            case .control:
                beginningWhitespaceSeen = false
            case .unknown:
                text.append(contentsOf: proto.unknownSurface.utf8)
                beginningWhitespaceSeen = false
            default:
                var bytes = Array(piece.piece.utf8)[...]
                var consumed = false
                if isBeginningWhitespace, spec.addDummyPrefix || spec.removeExtraWhitespaces,
                   bytes.starts(with: SentencePieceNormalizer.spaceSymbol) {
                    bytes = bytes.dropFirst(3)
                    consumed = true
                }
                beginningWhitespaceSeen = consumed && !spec.removeExtraWhitespaces
                text.append(contentsOf: TextPattern.literal(SentencePieceNormalizer.spaceSymbol).replace(in: Array(bytes), with: [0x20]))
            }
        }
        flushBytes()
        if let denormalizer { text = denormalizer.normalize(text) }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: - Vocabulary

    public func idToPiece(_ id: Int32) -> String? {
        id >= 0 && Int(id) < vocabulary.pieces.count ? vocabulary.pieces[Int(id)].piece : nil
    }

    public func pieceToId(_ piece: String) -> Int32? { vocabulary.exactId(of: piece) }

    public func isSpecial(_ id: Int32) -> Bool {
        guard id >= 0, Int(id) < vocabulary.pieces.count else { return false }
        let type = vocabulary.pieces[Int(id)].type
        return type == .control || type == .unknown
    }
}
