import SpecDecJSON

/// tokenizer.json `pre_tokenizer` entries.
extension HFTokenizerBuilder {
    func preTokenizer(_ json: JSONValue?) throws(TokenizerError) -> (any PreTokenizer)? {
        guard let json, !json.isNull else { return nil }
        guard let type = json["type"]?.stringValue else { throw fail("pre_tokenizer without a type") }
        switch type {
        case "Sequence":
            var items: [any PreTokenizer] = []
            for item in json["pretokenizers"]?.arrayValue ?? [] {
                if let p = try preTokenizer(item) { items.append(p) }
            }
            return SequencePreTokenizer(preTokenizers: items)
        case "ByteLevel":
            return ByteLevelPreTokenizer(addPrefixSpace: json["add_prefix_space"]?.boolValue ?? true,
                                         useRegex: json["use_regex"]?.boolValue ?? true, mapsBytes: true)
        case "Metaspace":
            let replacement = try singleScalar(json["replacement"], "Metaspace replacement")
            return MetaspacePreTokenizer(replacement: replacement.value, prependScheme: try prependScheme(json),
                                         split: json["split"]?.boolValue ?? true)
        case "Split":
            return SplitPreTokenizer(pattern: try pattern(json["pattern"]),
                                     behavior: try behavior(json["behavior"], default: .isolated),
                                     invert: json["invert"]?.boolValue ?? false)
        case "Digits":
            return DigitsPreTokenizer(individualDigits: json["individual_digits"]?.boolValue ?? false)
        case "Whitespace":
            return WhitespacePreTokenizer()
        case "WhitespaceSplit":
            return WhitespaceSplitPreTokenizer()
        case "Punctuation":
            return PunctuationPreTokenizer(behavior: try behavior(json["behavior"], default: .isolated))
        case "BertPreTokenizer":
            return BertPreTokenizer()
        case "CharDelimiterSplit":
            return CharDelimiterSplitPreTokenizer(delimiter: try singleScalar(json["delimiter"], "delimiter").value)
        default:
            throw unsupported("pre_tokenizer type \(type)")
        }
    }
}
