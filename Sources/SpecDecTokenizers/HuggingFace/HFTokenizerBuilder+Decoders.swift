import SpecDecJSON

/// tokenizer.json `decoder` entries.
extension HFTokenizerBuilder {
    func decoder(_ json: JSONValue?) throws(TokenizerError) -> (any Decoder)? {
        guard let json, !json.isNull else { return nil }
        guard let type = json["type"]?.stringValue else { throw fail("decoder without a type") }
        switch type {
        case "Sequence":
            var items: [any Decoder] = []
            for item in json["decoders"]?.arrayValue ?? [] {
                if let d = try decoder(item) { items.append(d) }
            }
            return SequenceDecoder(decoders: items)
        case "ByteLevel":
            return ByteLevelDecoder()
        case "Metaspace":
            return MetaspaceDecoder(replacement: try singleScalar(json["replacement"], "Metaspace replacement"),
                                    prependScheme: try prependScheme(json))
        case "ByteFallback":
            return ByteFallbackDecoder()
        case "Fuse":
            return FuseDecoder()
        case "Strip":
            return StripDecoder(content: try singleScalar(json["content"], "Strip content"),
                                start: max(0, json["start"]?.intValue ?? 0), stop: max(0, json["stop"]?.intValue ?? 0))
        case "Replace":
            guard let content = json["content"]?.stringValue else { throw fail("Replace without \"content\"") }
            return ReplaceDecoder(pattern: try pattern(json["pattern"]), content: Array(content.utf8))
        case "WordPiece":
            return WordPieceDecoder(prefix: json["prefix"]?.stringValue ?? "##", cleanup: json["cleanup"]?.boolValue ?? true)
        case "BPEDecoder":
            return BPESuffixDecoder(suffix: json["suffix"]?.stringValue ?? "</w>")
        default:
            throw unsupported("decoder type \(type)")
        }
    }
}
