import SpecDecJSON

/// tokenizer.json `post_processor` entries.
extension HFTokenizerBuilder {
    func postProcessor(_ json: JSONValue?, model: any TokenizerModel, added: [AddedToken]) throws(TokenizerError) -> (any PostProcessor)? {
        guard let json, !json.isNull else { return nil }
        guard let type = json["type"]?.stringValue else { throw fail("post_processor without a type") }
        func id(of token: String) -> Int32? {
            added.last(where: { $0.content == token })?.id ?? model.tokenToId(token)
        }
        func pairId(_ value: JSONValue?, _ what: String) throws(TokenizerError) -> Int32 {
            guard let pair = value?.arrayValue, pair.count == 2, let id = pair[1].intValue, id >= 0, id <= Int(Int32.max) else {
                throw fail("\(type) \(what) must be [token, id]")
            }
            return Int32(id)
        }
        switch type {
        case "TemplateProcessing":
            var specials: [String: [Int32]] = [:]
            if let object = json["special_tokens"]?.objectValue {
                for key in object.keys {
                    var ids: [Int32] = []
                    for value in object[key]?["ids"]?.arrayValue ?? [] {
                        guard let v = value.intValue, v >= 0, v <= Int(Int32.max) else { throw fail("bad special token id") }
                        ids.append(Int32(v))
                    }
                    specials[key] = ids
                }
            }
            var items: [TemplatePostProcessor.Item] = []
            for item in json["single"]?.arrayValue ?? [] {
                if let special = item["SpecialToken"] {
                    guard let name = special["id"]?.stringValue, let ids = specials[name] else {
                        throw fail("template uses a special token missing from special_tokens")
                    }
                    items.append(.special(ids))
                } else if let sequence = item["Sequence"] {
                    guard sequence["id"]?.stringValue == "A" else { throw fail("single template refers to sequence B") }
                    items.append(.sequence)
                } else {
                    throw fail("template items must be SpecialToken or Sequence")
                }
            }
            return TemplatePostProcessor(single: items)
        case "BertProcessing", "RobertaProcessing":
            let cls = try pairId(json["cls"], "cls")
            let sep = try pairId(json["sep"], "sep")
            return TemplatePostProcessor(single: [.special([cls]), .sequence, .special([sep])])
        case "ByteLevel":
            return nil
        case "Sequence":
            var items: [any PostProcessor] = []
            for item in json["processors"]?.arrayValue ?? [] {
                if let p = try postProcessor(item, model: model, added: added) { items.append(p) }
            }
            return SequencePostProcessor(processors: items)
        default:
            throw unsupported("post_processor type \(type)")
        }
    }
}
