import SpecDecJSON

/// A Marian (Opus-MT) directory: SentencePiece models for each side (source.spm,
/// target.spm) whose pieces are numbered by vocab.json, as transformers' MarianTokenizer
/// does. Encoding appends `</s>`; a leading language code like `>>fr<<` stays one token.
/// Decoding uses the source model unless the vocabularies are separate (transformers'
/// default), puts special tokens between SentencePiece-decoded runs and trims the result.
/// Moses punctuation normalization (optional in transformers) is not applied.
public final class MarianTokenizer: Tokenizer {
    let encoderModel: SentencePieceTokenizer
    let decoderModel: SentencePieceTokenizer
    let vocab: [String: Int32]
    let pieces: [String?]
    let specialIds: Set<Int32>
    /// UTF-8 spellings of the special tokens, matched in the text before SentencePiece.
    let specialSpellings: [([UInt8], Int32)]
    public let specialTokens: SpecialTokenIds
    public var vocabSize: Int { pieces.count }

    init(encoderModel: SentencePieceTokenizer, decoderModel: SentencePieceTokenizer, vocab: [String: Int32],
         names: SpecialTokenNames) throws(TokenizerError) {
        self.encoderModel = encoderModel
        self.decoderModel = decoderModel
        self.vocab = vocab
        self.pieces = try TokenIdTable.make(vocab.map { ($0.key, $0.value) }, kind: "Marian vocab.json")
        guard let unk = names.unk.flatMap({ vocab[$0] }) else {
            throw TokenizerError.format("Marian vocab.json has no \(names.unk ?? "<unk>") entry")
        }
        let eos = names.eos.flatMap { vocab[$0] }
        let pad = names.pad.flatMap { vocab[$0] }
        self.specialTokens = SpecialTokenIds(bos: nil, eos: eos, pad: pad, unk: unk)
        self.specialIds = Set([unk, eos, pad].compactMap { $0 })
        self.specialSpellings = [names.unk, names.eos, names.pad].compactMap { name in
            guard let name, let id = vocab[name] else { return nil }
            return (Array(name.utf8), id)
        }
    }

    static func loadPair(directory: String, config: JSONValue?) throws(TokenizerError) -> TokenizerPair {
        let separate = config?["separate_vocabs"]?.boolValue ?? false
        let source = try SentencePieceTokenizer.load(path: directory + "/source.spm", addBOS: false)
        let targetPath = FileBytes.isFile(directory + "/target.spm") ? directory + "/target.spm" : directory + "/source.spm"
        let target = try SentencePieceTokenizer.load(path: targetPath, addBOS: false)
        var names = SpecialTokenNames(bos: nil, eos: "</s>", pad: "<pad>", unk: "<unk>")
        if let config {
            names.eos = HFTokenizerBuilder.tokenName(config["eos_token"]) ?? names.eos
            names.pad = HFTokenizerBuilder.tokenName(config["pad_token"]) ?? names.pad
            names.unk = HFTokenizerBuilder.tokenName(config["unk_token"]) ?? names.unk
        }
        let vocab = try readVocab(directory + "/vocab.json")
        let targetVocab = separate ? try readVocab(directory + "/target_vocab.json") : vocab
        let decoder = separate ? target : source
        return TokenizerPair(
            source: try MarianTokenizer(encoderModel: source, decoderModel: decoder, vocab: vocab, names: names),
            target: try MarianTokenizer(encoderModel: target, decoderModel: decoder, vocab: targetVocab, names: names))
    }

    static func readVocab(_ path: String) throws(TokenizerError) -> [String: Int32] {
        guard let object = try TokenizerLoader.readConfig(path)?.objectValue else {
            throw TokenizerError(.io, "\(path) is missing or not a JSON object")
        }
        var vocab: [String: Int32] = [:]
        for key in object.keys {
            guard let id = object[key]?.intValue, id >= 0, id <= Int(Int32.max) else {
                throw TokenizerError.format("\(path): entry \"\(key)\" has no valid id")
            }
            vocab[key] = Int32(id)
        }
        return vocab
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var ids: [Int32] = []
        // transformers first cuts the text at special-token spellings, then encodes each
        // chunk on its own (each with its own dummy prefix and language code check).
        let bytes = Array(text.utf8)
        var chunkStart = 0
        var i = 0
        while i <= bytes.count {
            var match: (length: Int, id: Int32)?
            if i < bytes.count {
                for (spelling, id) in specialSpellings where bytes[i...].starts(with: spelling) {
                    if spelling.count > (match?.length ?? -1) { match = (spelling.count, id) }
                }
            }
            if i == bytes.count || match != nil {
                encodeChunk(bytes[chunkStart..<i], into: &ids)
                guard let match else { break }
                ids.append(match.id)
                i += match.length
                chunkStart = i
                continue
            }
            i += 1
        }
        if addSpecialTokens, let eos = specialTokens.eos { ids.append(eos) }
        return ids
    }

    private func encodeChunk(_ chunk: ArraySlice<UInt8>, into ids: inout [Int32]) {
        var rest = chunk
        if rest.starts(with: [0x3E, 0x3E]), let close = MarianTokenizer.find([0x3C, 0x3C], in: rest) {
            let code = String(decoding: rest[..<(close + 2)], as: UTF8.self)
            ids.append(vocab[code] ?? specialTokens.unk ?? 0)
            rest = rest[(close + 2)...]
        }
        for piece in encoderModel.encodeAsPieces(String(decoding: rest, as: UTF8.self)) {
            ids.append(vocab[piece] ?? specialTokens.unk ?? 0)
        }
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        var i = haystack.startIndex
        while i + needle.count <= haystack.endIndex {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) throws(TokenizerError) -> String {
        var out = ""
        var run: [Int32] = []
        func flush() throws(TokenizerError) {
            out += try decoderModel.decode(run, skipSpecialTokens: false)
            run.removeAll()
        }
        for id in ids {
            guard id >= 0, Int(id) < pieces.count, let piece = pieces[Int(id)] else {
                throw TokenizerError(.idOutOfRange, "token id \(id) is outside the vocabulary (size \(pieces.count))")
            }
            if specialIds.contains(id) {
                if skipSpecialTokens { continue }
                try flush()
                out += piece + " "
            } else {
                run.append(decoderModel.pieceToId(piece) ?? decoderModel.specialTokens.unk ?? 0)
            }
        }
        try flush()
        out = String(decoding: TextPattern.literal(SentencePieceNormalizer.spaceSymbol).replace(in: Array(out.utf8), with: [0x20]),
                     as: UTF8.self)
        return String(String.UnicodeScalarView(out.unicodeScalars.drop(while: \.properties.isWhitespace)
            .reversed().drop(while: \.properties.isWhitespace).reversed()))
    }

    public func idToPiece(_ id: Int32) -> String? { id >= 0 && Int(id) < pieces.count ? pieces[Int(id)] : nil }
    public func pieceToId(_ piece: String) -> Int32? { vocab[piece] }
    public func isSpecial(_ id: Int32) -> Bool { specialIds.contains(id) }
}
