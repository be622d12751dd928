import SpecDecJSON

/// tokenizer.json `normalizer` entries.
extension HFTokenizerBuilder {
    static let supportedNormalizers = ["BertNormalizer", "ByteLevel", "Lowercase", "NFC", "NFD", "NFKC", "NFKD", "Nmt",
                                       "Precompiled", "Prepend", "Replace", "Sequence", "Strip", "StripAccents"]

    func normalizer(_ json: JSONValue?) throws(TokenizerError) -> (any Normalizer)? {
        guard let json, !json.isNull else { return nil }
        guard let type = json["type"]?.stringValue else { throw fail("normalizer without a type") }
        switch type {
        case "Sequence":
            var items: [any Normalizer] = []
            for item in json["normalizers"]?.arrayValue ?? [] {
                if let n = try normalizer(item) { items.append(n) }
            }
            return SequenceNormalizer(normalizers: items)
        case "Prepend":
            guard let prefix = json["prepend"]?.stringValue else { throw fail("Prepend without \"prepend\"") }
            return PrependNormalizer(prefix: Array(prefix.utf8))
        case "Replace":
            guard let content = json["content"]?.stringValue else { throw fail("Replace without \"content\"") }
            return ReplaceNormalizer(pattern: try pattern(json["pattern"]), content: Array(content.utf8))
        case "Strip":
            return StripNormalizer(left: json["strip_left"]?.boolValue ?? true, right: json["strip_right"]?.boolValue ?? true)
        case "Lowercase":
            return LowercaseNormalizer()
        case "NFC":
            return UnicodeFormNormalizer(form: .nfc)
        case "NFD":
            return UnicodeFormNormalizer(form: .nfd)
        case "NFKC":
            return UnicodeFormNormalizer(form: .nfkc)
        case "NFKD":
            return UnicodeFormNormalizer(form: .nfkd)
        case "Nmt":
            return NmtNormalizer()
        case "StripAccents":
            return StripAccentsNormalizer()
        case "ByteLevel":
            return ByteLevelNormalizer()
        case "Precompiled":
            guard let encoded = json["precompiled_charsmap"]?.stringValue else { return nil }
            guard let blob = Base64.decode(encoded) else { throw fail("precompiled_charsmap is not valid base64") }
            if blob.isEmpty { return nil }
            return PrecompiledNormalizer(charsMap: try PrecompiledCharsMap(blob: blob))
        case "BertNormalizer":
            let lowercase = json["lowercase"]?.boolValue ?? true
            // strip_accents null means "follow lowercase", as in the reference.
            let stripAccents = json["strip_accents"]?.boolValue ?? lowercase
            return BertNormalizer(cleanText: json["clean_text"]?.boolValue ?? true,
                                  handleChineseCharacters: json["handle_chinese_chars"]?.boolValue ?? true,
                                  stripAccents: stripAccents, lowercase: lowercase)
        default:
            throw unsupported("normalizer type \(type) (supported: \(HFTokenizerBuilder.supportedNormalizers.joined(separator: ", ")))")
        }
    }
}
