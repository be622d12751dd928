import ArgumentParser
import SpecDecCore
import SpecDecJSON
import SpecDecTokenizers

/// Text to ids with a model's tokenizer (tokenizer.json, a SentencePiece .model, or a
/// model directory): one JSON array of ids per input line.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Encode text to token ids.")

    @Option(help: "tokenizer.json, a .model file, or a model directory.") var tokenizer: String
    @Option(help: "Text to encode (each line separately).") var text: String?
    @Option(help: "File to encode, line by line.") var file: String?
    @Flag(name: .customLong("no-special"), help: "Do not add the template's special tokens (BOS/EOS).") var noSpecial = false
    @Flag(help: "Print one JSON array of ids per line (the default output).") var json = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text and --file") }
    }

    func run() throws {
        let loaded: any Tokenizer
        switch loadTokenizer(tokenizer) {
        case .success(let t): loaded = t
        case .failure(let error): throw report(SpecDecError(tokenizerError: error), json: true)
        }
        let lines: [Substring]
        if let text {
            lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        } else {
            do {
                let bytes = try MappedFile.readAll(file!)
                guard let content = String(validating: bytes, as: UTF8.self) else {
                    throw SpecDecError(.invalidUTF8, "\(file!) is not valid UTF-8")
                }
                var all = content.split(separator: "\n", omittingEmptySubsequences: false)
                if all.last == "" { all.removeLast() }
                lines = all
            } catch let error as SpecDecError { throw report(error, json: true) }
        }
        var out = ""
        for line in lines {
            out += idsJSON(loaded.encode(String(line), addSpecialTokens: !noSpecial)).serialized
            out += "\n"
        }
        print(out, terminator: "")
    }
}

/// Ids back to text: `--ids 1,2,3`, or a file with one JSON array of ids per line.
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detokenize", abstract: "Decode token ids to text.")

    @Option(help: "tokenizer.json, a .model file, or a model directory.") var tokenizer: String
    @Option(help: "Ids, comma-separated.") var ids: String?
    @Option(help: "File with one JSON array of ids per line.") var file: String?
    @Flag(name: .customLong("keep-special"), help: "Keep special tokens in the text.") var keepSpecial = false
    @Flag(help: "Print one JSON string per line.") var json = false

    func run() throws {
        do {
            let loaded = try loadTokenizer(tokenizer).mapError { SpecDecError(tokenizerError: $0) }.get()
            var sequences: [[Int32]] = []
            if let ids {
                sequences = [try parseIds(ids, flag: "--ids")]
            } else if let file {
                let content = String(decoding: try MappedFile.readAll(file), as: UTF8.self)
                for line in content.split(separator: "\n") {
                    guard let array = (try? JSONParser.parse(String(line)))?.arrayValue else {
                        throw SpecDecError.format("\(file): each line must be a JSON array of ids")
                    }
                    sequences.append(array.compactMap { $0.intValue.map(Int32.init) })
                }
            } else {
                throw SpecDecError.invalidArgument("give --ids or --file")
            }
            for sequence in sequences {
                let text = try decodeIds(loaded, sequence, skipSpecial: !keepSpecial).mapError { SpecDecError(tokenizerError: $0) }.get()
                print(json ? JSONValue.string(text).serialized : text)
            }
        } catch let error as SpecDecError {
            throw report(error, json: json)
        }
    }
}

extension SpecDecError {
    init(tokenizerError error: TokenizerError) {
        switch error.kind {
        case .io: self.init(.io, error.message)
        case .format: self.init(.format, error.message)
        case .unsupported: self.init(.unsupported, error.message)
        case .invalidUTF8: self.init(.invalidUTF8, error.message)
        case .idOutOfRange: self.init(.tokenOutOfRange, error.message)
        }
    }
}

/// The tokenizer at `path`, or why there is none.
func loadTokenizer(_ path: String) -> Result<any Tokenizer, TokenizerError> {
    do throws(TokenizerError) { return .success(try TokenizerLoader.load(path: path)) } catch { return .failure(error) }
}

func decodeIds(_ tokenizer: any Tokenizer, _ ids: [Int32], skipSpecial: Bool) -> Result<String, TokenizerError> {
    do throws(TokenizerError) { return .success(try tokenizer.decode(ids, skipSpecialTokens: skipSpecial)) } catch { return .failure(error) }
}
