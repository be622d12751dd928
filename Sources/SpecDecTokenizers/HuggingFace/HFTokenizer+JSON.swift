import SpecDecJSON

/// Building an `HFTokenizer` from tokenizer.json. Every component type the file names is
/// either implemented exactly or rejected with `.unsupported`. Ignored on purpose: offsets
/// settings (trim_offsets), and the file's padding and truncation settings, since callers
/// of this library manage sequence lengths themselves.
extension HFTokenizer {
    public static func load(path: String) throws(TokenizerError) -> HFTokenizer {
        try load(json: try FileBytes.read(path), source: path, config: nil)
    }

    /// Loads tokenizer.json content held in memory.
    public static func load(json bytes: [UInt8]) throws(TokenizerError) -> HFTokenizer {
        try load(json: bytes, source: "tokenizer.json", config: nil)
    }

    /// `config` is tokenizer_config.json, whose bos/eos/pad/unk names take precedence.
    static func load(json bytes: [UInt8], source: String, config: JSONValue?) throws(TokenizerError) -> HFTokenizer {
        let root: JSONValue
        do {
            // Numbers as the reference's serde_json reads them: Unigram scores must be bit-equal.
            root = try JSONParser.parse(bytes, floats: .serdeJSONDefault)
        } catch {
            throw TokenizerError.format("\(source) is not valid JSON: \(error)")
        }
        guard root.objectValue != nil else { throw TokenizerError.format("\(source): top level is not an object") }
        return try HFTokenizerBuilder(source: source).build(root, config: config)
    }
}
