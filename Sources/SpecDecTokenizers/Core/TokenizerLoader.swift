import SpecDecJSON

/// The tokenizers of an encoder-decoder model: `source` encodes the input sentence,
/// `target` encodes and decodes the output side. For models with one tokenizer both are
/// the same object.
public struct TokenizerPair: Sendable {
    public let source: any Tokenizer
    public let target: any Tokenizer
}

/// Finds and loads the tokenizer of a model.
public enum TokenizerLoader {
    /// Loads a tokenizer.json, a SentencePiece .model file, or a model directory
    /// (tokenizer.json preferred, then tokenizer.model, then a Marian source.spm, whose
    /// source side is returned; see `loadPair`).
    public static func load(path: String) throws(TokenizerError) -> any Tokenizer {
        try loadPair(path: path).source
    }

    /// Like `load`, but returns both sides; they differ for Marian directories
    /// (source.spm / target.spm sharing vocab.json).
    public static func loadPair(path: String) throws(TokenizerError) -> TokenizerPair {
        if FileBytes.isDirectory(path) {
            let directory = path.hasSuffix("/") ? String(path.dropLast()) : path
            let config = try readConfig(directory + "/tokenizer_config.json")
            if FileBytes.isFile(directory + "/tokenizer.json") {
                let file = directory + "/tokenizer.json"
                let tokenizer = try HFTokenizer.load(json: try FileBytes.read(file), source: file, config: config)
                return TokenizerPair(source: tokenizer, target: tokenizer)
            }
            if FileBytes.isFile(directory + "/tokenizer.model") {
                let tokenizer = try SentencePieceTokenizer.load(path: directory + "/tokenizer.model",
                                                                addBOS: config?["add_bos_token"]?.boolValue ?? true,
                                                                addEOS: config?["add_eos_token"]?.boolValue ?? false)
                return TokenizerPair(source: tokenizer, target: tokenizer)
            }
            if FileBytes.isFile(directory + "/source.spm") {
                return try MarianTokenizer.loadPair(directory: directory, config: config)
            }
            throw TokenizerError(.io, "\(path) has no tokenizer.json, tokenizer.model or source.spm")
        }
        let bytes = try FileBytes.read(path)
        let tokenizer: any Tokenizer
        if path.hasSuffix(".json") || bytes.first == UInt8(ascii: "{") {
            tokenizer = try HFTokenizer.load(json: bytes, source: path, config: nil)
        } else {
            tokenizer = try SentencePieceTokenizer(bytes: bytes)
        }
        return TokenizerPair(source: tokenizer, target: tokenizer)
    }

    static func readConfig(_ path: String) throws(TokenizerError) -> JSONValue? {
        guard FileBytes.isFile(path) else { return nil }
        do {
            return try JSONParser.parse(try FileBytes.read(path))
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw TokenizerError.format("\(path) is not valid JSON: \(error)")
        }
    }
}
