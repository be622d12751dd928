import SpecDecJSON

/// Parses the components of one tokenizer.json.
struct HFTokenizerBuilder {
    let source: String

    func fail(_ message: String) -> TokenizerError { TokenizerError.format("\(source): \(message)") }
    func unsupported(_ message: String) -> TokenizerError { TokenizerError.unsupported("\(source): \(message)") }

    func build(_ root: JSONValue, config: JSONValue?) throws(TokenizerError) -> HFTokenizer {
        let normalizer = try normalizer(root["normalizer"])
        var preTokenizer = try preTokenizer(root["pre_tokenizer"])
        guard let modelJSON = root["model"], modelJSON.objectValue != nil else { throw fail("missing \"model\"") }

        // A ByteLevel pre-tokenizer that runs last hands raw bytes to the model (see
        // ByteLevelPreTokenizer); anywhere else it maps bytes like the reference.
        var input = BPEModel.Input.characters
        if var last = preTokenizer as? ByteLevelPreTokenizer {
            last.mapsBytes = false
            preTokenizer = last
            input = .rawBytes
        } else if let sequence = preTokenizer as? SequencePreTokenizer,
                  var last = sequence.preTokenizers.last as? ByteLevelPreTokenizer,
                  !sequence.preTokenizers.dropLast().contains(where: { $0 is ByteLevelPreTokenizer }) {
            last.mapsBytes = false
            preTokenizer = SequencePreTokenizer(preTokenizers: Array(sequence.preTokenizers.dropLast()) + [last])
            input = .rawBytes
        }
        let model = try model(modelJSON, input: input)

        var added: [AddedToken] = []
        for item in root["added_tokens"]?.arrayValue ?? [] {
            guard let id = item["id"]?.intValue, id >= 0, id <= Int(Int32.max),
                  let content = item["content"]?.stringValue else {
                throw fail("an added token lacks an id or content")
            }
            let special = item["special"]?.boolValue ?? false
            added.append(AddedToken(id: Int32(id), content: content,
                                    singleWord: item["single_word"]?.boolValue ?? false,
                                    leftStrip: item["lstrip"]?.boolValue ?? false,
                                    rightStrip: item["rstrip"]?.boolValue ?? false,
                                    normalized: item["normalized"]?.boolValue ?? !special,
                                    special: special))
        }
        let addedVocabulary = AddedVocabulary(tokens: added, normalizer: normalizer)
        let postProcessor = try postProcessor(root["post_processor"], model: model, added: added)
        let decoder = try decoder(root["decoder"])

        var names = SpecialTokenNames()
        if let config {
            names.bos = HFTokenizerBuilder.tokenName(config["bos_token"])
            names.eos = HFTokenizerBuilder.tokenName(config["eos_token"])
            names.pad = HFTokenizerBuilder.tokenName(config["pad_token"])
            names.unk = HFTokenizerBuilder.tokenName(config["unk_token"])
        }
        if names.unk == nil { names.unk = modelJSON["unk_token"]?.stringValue }
        if names.unk == nil, let unkId = modelJSON["unk_id"]?.intValue { names.unk = model.idToToken.token(at: unkId) }
        if let template = root["post_processor"], names.bos == nil || names.eos == nil {
            let (first, last) = HFTokenizerBuilder.templateEnds(template)
            if names.bos == nil { names.bos = first }
            if names.eos == nil { names.eos = last }
        }
        // Conventional spellings count only as added tokens: a trained vocabulary can hold
        // "<pad>" as ordinary text.
        let contents = Set(added.map(\.content))
        names.fillConventional { contents.contains($0) }
        return HFTokenizer(addedVocabulary: addedVocabulary, normalizer: normalizer, preTokenizer: preTokenizer,
                           model: model, postProcessor: postProcessor, decoder: decoder, specialTokenNames: names)
    }

    /// A tokenizer_config.json token entry: a string or {"content": ...}.
    static func tokenName(_ value: JSONValue?) -> String? {
        value?.stringValue ?? value?["content"]?.stringValue
    }

    /// The special tokens that open and close the single-sequence template, if any.
    static func templateEnds(_ json: JSONValue) -> (String?, String?) {
        switch json["type"]?.stringValue {
        case "TemplateProcessing":
            let single = json["single"]?.arrayValue ?? []
            let first = single.first?["SpecialToken"]?["id"]?.stringValue
            let last = single.count > 1 ? single.last?["SpecialToken"]?["id"]?.stringValue : nil
            return (first, last)
        case "BertProcessing", "RobertaProcessing":
            return (json["cls"]?.arrayValue?.first?.stringValue, json["sep"]?.arrayValue?.first?.stringValue)
        case "Sequence":
            var result: (String?, String?) = (nil, nil)
            for item in json["processors"]?.arrayValue ?? [] {
                let (first, last) = templateEnds(item)
                result = (result.0 ?? first, result.1 ?? last)
            }
            return result
        default:
            return (nil, nil)
        }
    }

    // MARK: - Patterns

    func pattern(_ json: JSONValue?) throws(TokenizerError) -> TextPattern {
        if let string = json?["String"]?.stringValue { return .literal(Array(string.utf8)) }
        if let regex = json?["Regex"]?.stringValue { return try TextPattern.regex(regex) }
        throw fail("pattern must be {\"String\": ...} or {\"Regex\": ...}")
    }

    func singleScalar(_ json: JSONValue?, _ what: String) throws(TokenizerError) -> Unicode.Scalar {
        guard let string = json?.stringValue, string.unicodeScalars.count == 1, let scalar = string.unicodeScalars.first else {
            throw fail("\(what) must be a single character")
        }
        return scalar
    }

    func prependScheme(_ json: JSONValue) throws(TokenizerError) -> PrependScheme {
        var scheme = PrependScheme.always
        if let name = json["prepend_scheme"]?.stringValue {
            guard let parsed = PrependScheme(rawValue: name) else { throw fail("unknown prepend_scheme \"\(name)\"") }
            scheme = parsed
        }
        if json["add_prefix_space"]?.boolValue == false {
            if json["prepend_scheme"]?.stringValue != nil, scheme != .never {
                throw fail("add_prefix_space does not match declared prepend_scheme")
            }
            scheme = .never
        }
        return scheme
    }

    func behavior(_ json: JSONValue?, default value: SplitBehavior) throws(TokenizerError) -> SplitBehavior {
        guard let name = json?.stringValue else { return value }
        guard let behavior = SplitBehavior(rawValue: name) else { throw fail("unknown split behavior \"\(name)\"") }
        return behavior
    }

    // MARK: - Models

    func model(_ json: JSONValue, input: BPEModel.Input) throws(TokenizerError) -> any TokenizerModel {
        var type = json["type"]?.stringValue
        if type == nil {
            // Old files omit the type; the reference tells the models apart by their fields.
            if json["merges"] != nil { type = "BPE" }
            else if json["vocab"]?.arrayValue != nil { type = "Unigram" }
            else if json["max_input_chars_per_word"] != nil { type = "WordPiece" }
            else { type = "WordLevel" }
        }
        switch type {
        case "BPE":
            if let dropout = json["dropout"]?.doubleValue, dropout > 0 {
                throw unsupported("BPE dropout \(dropout) (sampling is not supported)")
            }
            return try BPEModel(vocab: try vocabMap(json["vocab"]), merges: try merges(json["merges"]), input: input,
                                unknownToken: json["unk_token"]?.stringValue,
                                byteFallback: json["byte_fallback"]?.boolValue ?? false,
                                fuseUnknown: json["fuse_unk"]?.boolValue ?? false,
                                ignoreMerges: json["ignore_merges"]?.boolValue ?? false,
                                continuingSubwordPrefix: json["continuing_subword_prefix"]?.stringValue,
                                endOfWordSuffix: json["end_of_word_suffix"]?.stringValue)
        case "Unigram":
            guard let items = json["vocab"]?.arrayValue else { throw fail("Unigram model without a vocab array") }
            var vocab: [(String, Double)] = []
            vocab.reserveCapacity(items.count)
            for item in items {
                guard let pair = item.arrayValue, pair.count == 2, let token = pair[0].stringValue,
                      let score = pair[1].doubleValue else {
                    throw fail("Unigram vocab entries must be [token, score]")
                }
                vocab.append((token, score))
            }
            return try UnigramModel(vocab: vocab, unknownId: json["unk_id"]?.intValue,
                                    byteFallback: json["byte_fallback"]?.boolValue ?? false)
        case "WordPiece":
            return try WordPieceModel(vocab: try vocabMap(json["vocab"]),
                                      unknownToken: json["unk_token"]?.stringValue ?? "[UNK]",
                                      continuingSubwordPrefix: json["continuing_subword_prefix"]?.stringValue ?? "##",
                                      maxInputCharsPerWord: json["max_input_chars_per_word"]?.intValue ?? 100)
        case "WordLevel":
            return try WordLevelModel(vocab: try vocabMap(json["vocab"]),
                                      unknownToken: json["unk_token"]?.stringValue ?? "<unk>")
        default:
            throw unsupported("model type \(type ?? "?")")
        }
    }

    func vocabMap(_ json: JSONValue?) throws(TokenizerError) -> [(String, Int32)] {
        guard let object = json?.objectValue else { throw fail("model vocab must be an object") }
        var vocab: [(String, Int32)] = []
        vocab.reserveCapacity(object.count)
        for key in object.keys {
            guard let id = object[key]?.intValue, id >= 0, id <= Int(Int32.max) else {
                throw fail("vocab entry \"\(key)\" has no valid id")
            }
            vocab.append((key, Int32(id)))
        }
        return vocab
    }

    func merges(_ json: JSONValue?) throws(TokenizerError) -> [(String, String)] {
        guard let items = json?.arrayValue else { return [] }
        var merges: [(String, String)] = []
        merges.reserveCapacity(items.count)
        for item in items {
            if let line = item.stringValue {
                let parts = line.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("merge \"\(line)\" is not two tokens separated by one space") }
                merges.append((String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self)))
            } else if let pair = item.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
                merges.append((a, b))
            } else {
                throw fail("merges must be \"a b\" strings or [a, b] pairs")
            }
        }
        return merges
    }
}
