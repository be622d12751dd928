import SpecDecJSON

/// Hyper-parameters of SpecDec's Spec-Drafter (the authors' BlockNAT) as exported by
/// training/export_drafter.py (`model_type: "specdec_drafter"`).
public struct SpecDrafterConfig: Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var encoderLayerCount: Int
    public var decoderLayerCount: Int
    public var encoderHeadCount: Int
    public var decoderHeadCount: Int
    public var encoderFeedForwardSize: Int
    public var decoderFeedForwardSize: Int
    /// Positions available to the source and to prefix + slots (tables hold 2 more rows).
    public var maxPositions: Int
    public var positionOffset: Int
    /// k: the number of mask slots the drafter was trained to fill.
    public var blockSize: Int
    public var maskTokenId: Int
    public var padTokenId: Int?
    public var eosTokenId: Int?
    public var normEpsilon: Float

    public static func load(directory: String) throws(SpecDecError) -> SpecDrafterConfig {
        let path = FileSystem.join(directory, "config.json")
        guard FileSystem.exists(path) else { throw .io("\(path) not found") }
        let json: JSONValue
        do { json = try JSONParser.parse(try MappedFile.readAll(path)) } catch let error as JSONParseError {
            throw .format("\(path): invalid JSON: \(error)")
        } catch let error as SpecDecError { throw error } catch { throw .init(.internal, "\(error)") }
        guard json["model_type"]?.stringValue == "specdec_drafter" else {
            throw .unsupported("\(path): model_type is not \"specdec_drafter\"")
        }
        func int(_ key: String) throws(SpecDecError) -> Int {
            guard let v = json[key]?.intValue, v > 0 else { throw .format("\(path): missing or invalid \"\(key)\"") }
            return v
        }
        let flags: [(String, Bool)] = [("normalize_before", false), ("scale_embedding", false), ("src_embedding_copy", true),
                                       ("positions_added_before_every_decoder_layer", true), ("tie_word_embeddings", true)]
        for (key, expected) in flags where (json[key]?.boolValue ?? expected) != expected {
            throw .unsupported("\(path): \(key) = \(!expected) is not the Spec-Drafter architecture this engine implements")
        }
        if let act = json["activation_function"]?.stringValue, act != "gelu" {
            throw .unsupported("\(path): activation_function \"\(act)\" is not supported (expected gelu)")
        }
        let config = SpecDrafterConfig(
            vocabSize: try int("vocab_size"), hiddenSize: try int("d_model"),
            encoderLayerCount: try int("encoder_layers"), decoderLayerCount: try int("decoder_layers"),
            encoderHeadCount: try int("encoder_attention_heads"), decoderHeadCount: try int("decoder_attention_heads"),
            encoderFeedForwardSize: try int("encoder_ffn_dim"), decoderFeedForwardSize: try int("decoder_ffn_dim"),
            maxPositions: try int("max_position_embeddings"), positionOffset: json["position_offset"]?.intValue ?? 2,
            blockSize: try int("block_size"), maskTokenId: json["mask_token_id"]?.intValue ?? 1,
            padTokenId: json["pad_token_id"]?.intValue, eosTokenId: json["eos_token_id"]?.intValue,
            normEpsilon: Float(json["layer_norm_eps"]?.doubleValue ?? 1e-5))
        guard config.hiddenSize % config.encoderHeadCount == 0, config.hiddenSize % config.decoderHeadCount == 0 else {
            throw .format("\(path): d_model is not a multiple of the head counts")
        }
        guard config.maskTokenId >= 0, config.maskTokenId < config.vocabSize else { throw .format("\(path): mask_token_id outside the vocabulary") }
        return config
    }
}
