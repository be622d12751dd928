import SpecDecJSON

/// The families of encoder-decoder models the engine runs.
public enum EncoderDecoderArchitecture: Int32, Sendable {
    /// MarianMTModel, and fairseq `transformer` checkpoints converted by tools/convert_fairseq.py.
    case marian = 1
    /// BartForConditionalGeneration.
    case bart = 2
}

/// How token positions become vectors added to the embeddings.
public enum PositionalEmbeddingStyle: Sendable, Equatable {
    /// Marian: row p = [sin(p·f_j) for j < d/2] ++ [cos(p·f_j) for j < d/2], f_j = 10000^(-2j/d),
    /// computed in fp64 and rounded to fp32 (as transformers builds it).
    case marianSinusoidal
    /// fairseq: row p + offset of a table with f_j = exp(-j·ln(10000)/(d/2 - 1)), in fp32 as fairseq
    /// computes it; offset = padding_idx + 1 (written by tools/convert_fairseq.py).
    case fairseqSinusoidal(offset: Int)
    /// BART: a learned table read at row p + offset (2).
    case learned(offset: Int)
}

/// The activation between the two feed-forward projections.
public enum FeedForwardActivation: String, Sendable {
    case relu
    case gelu                 // exact (erf) GELU, transformers' "gelu"
    case geluTanh = "gelu_new" // tanh approximation ("gelu_new", "gelu_fast", "gelu_pytorch_tanh")
    case silu = "swish"       // "swish" / "silu"
}

/// The hyper-parameters of an encoder-decoder model, read from config.json. Dimensions are
/// those of transformers' MarianConfig / BartConfig; `vocabSize` is the decoder's (target)
/// vocabulary, the width of the logits, so that code written for `Session` reads it the same way.
public struct EncoderDecoderConfig: Sendable {
    public var modelType: String
    public var architecture: EncoderDecoderArchitecture
    /// Source (encoder) vocabulary.
    public var sourceVocabSize: Int
    /// Target (decoder) vocabulary: the number of logits per position.
    public var vocabSize: Int
    public var hiddenSize: Int
    public var encoderLayerCount: Int
    public var decoderLayerCount: Int
    public var encoderHeadCount: Int
    public var decoderHeadCount: Int
    public var encoderFeedForwardSize: Int
    public var decoderFeedForwardSize: Int
    /// Longest source the encoder accepts.
    public var maxSourcePositions: Int
    /// Longest decoder sequence (start token included): the decoder's context length.
    public var contextLength: Int
    public var normEpsilon: Float
    public var activation: FeedForwardActivation
    /// Embeddings are multiplied by sqrt(d_model) (Marian's scale_embedding, fairseq's default).
    public var scaleEmbedding: Bool
    /// One embedding table for source and target (Marian's share_encoder_decoder_embeddings; always for BART).
    public var sharedEmbeddings: Bool
    /// The output projection is the decoder's embedding (tie_word_embeddings).
    public var tiedEmbeddings: Bool
    public var positionalEmbedding: PositionalEmbeddingStyle
    /// A LayerNorm after embedding + position (BART's layernorm_embedding).
    public var embeddingLayerNorm: Bool
    public var decoderStartTokenId: Int
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    public var encoderHeadDim: Int { hiddenSize / encoderHeadCount }
    public var decoderHeadDim: Int { hiddenSize / decoderHeadCount }
    /// sqrt(d_model) or 1, rounded to fp32 as transformers multiplies by a Python float.
    public var embeddingScale: Float { scaleEmbedding ? Float(Double(hiddenSize).squareRoot()) : 1 }

    public static let supportedTypes = ["marian", "bart"]

    public static func load(directory: String) throws(SpecDecError) -> EncoderDecoderConfig {
        let (object, path) = try ConfigFile.read(directory: directory)
        return try EncoderDecoderConfig(object, path: path)
    }

    init(_ c: JSONObject, path: String) throws(SpecDecError) {
        func int(_ key: String, _ fallback: Int? = nil) throws(SpecDecError) -> Int {
            if let v = c[key], !v.isNull {
                guard let i = v.intValue else { throw .format("\(path): \"\(key)\" is not an integer") }
                return i
            }
            if let fallback { return fallback }
            throw .format("\(path): missing \"\(key)\"")
        }
        func optionalInt(_ key: String) throws(SpecDecError) -> Int? {
            guard let v = c[key], !v.isNull else { return nil }
            guard let i = v.intValue else { throw .format("\(path): \"\(key)\" is not an integer") }
            return i
        }
        func bool(_ key: String, _ fallback: Bool) throws(SpecDecError) -> Bool {
            guard let v = c[key], !v.isNull else { return fallback }
            guard let b = v.boolValue else { throw .format("\(path): \"\(key)\" is not a boolean") }
            return b
        }

        guard let type = c["model_type"]?.stringValue else { throw .format("\(path): missing \"model_type\"") }
        modelType = type
        switch type {
        case "marian": architecture = .marian
        case "bart": architecture = .bart
        default:
            if c["is_encoder_decoder"]?.boolValue == true {
                throw .unsupported("\(path): unknown encoder-decoder architecture \"\(type)\"; supported: marian, bart")
            }
            throw .unsupported("\(path): \"\(type)\" is not an encoder-decoder model (a decoder-only model loads with ModelLoader.load); supported encoder-decoder architectures: marian, bart")
        }

        sourceVocabSize = try int("vocab_size")
        sharedEmbeddings = architecture == .bart ? true : try bool("share_encoder_decoder_embeddings", true)
        let decoderVocab = architecture == .marian ? try optionalInt("decoder_vocab_size") : nil
        if sharedEmbeddings {
            if let decoderVocab, decoderVocab != sourceVocabSize {
                throw .format("\(path): inconsistent vocabulary sizes: decoder_vocab_size \(decoderVocab) differs from vocab_size \(sourceVocabSize) but share_encoder_decoder_embeddings is true")
            }
            vocabSize = sourceVocabSize
        } else {
            vocabSize = decoderVocab ?? sourceVocabSize
        }
        hiddenSize = try int("d_model")
        encoderLayerCount = try int("encoder_layers")
        decoderLayerCount = try int("decoder_layers")
        encoderHeadCount = try int("encoder_attention_heads")
        decoderHeadCount = try int("decoder_attention_heads")
        encoderFeedForwardSize = try int("encoder_ffn_dim")
        decoderFeedForwardSize = try int("decoder_ffn_dim")
        let maxPositions = try int("max_position_embeddings", 1024)
        maxSourcePositions = try int("max_source_positions", maxPositions)
        contextLength = try int("max_target_positions", maxPositions)
        normEpsilon = 1e-5
        scaleEmbedding = try bool("scale_embedding", false)
        tiedEmbeddings = try bool("tie_word_embeddings", true)
        embeddingLayerNorm = architecture == .bart ? true : try bool("layernorm_embedding", false)

        let activationName = c["activation_function"]?.stringValue ?? "gelu"
        switch activationName {
        case "relu": activation = .relu
        case "gelu": activation = .gelu
        case "gelu_new", "gelu_fast", "gelu_pytorch_tanh": activation = .geluTanh
        case "swish", "silu": activation = .silu
        default: throw .unsupported("\(path): activation_function \"\(activationName)\" is not supported (relu, gelu, gelu_new, swish)")
        }

        let style = c["positional_embedding_style"]?.stringValue
        switch (architecture, style) {
        case (.bart, nil), (.bart, "learned"):
            positionalEmbedding = .learned(offset: 2)
        case (.marian, nil), (.marian, "marian"):
            positionalEmbedding = .marianSinusoidal
        case (.marian, "fairseq"):
            let offset = try int("position_offset", 2)
            guard offset >= 0, offset < 1 << 20 else { throw .format("\(path): position_offset \(offset) is out of range") }
            positionalEmbedding = .fairseqSinusoidal(offset: offset)
        default:
            throw .unsupported("\(path): positional_embedding_style \"\(style ?? "")\" is not supported for \(type)")
        }
        let preNorm = try bool("normalize_before", false)
        let finalNorm = try bool("add_final_layer_norm", false)
        if preNorm || finalNorm {
            throw .unsupported("\(path): pre-norm layers (normalize_before / add_final_layer_norm) are not supported; the engine runs post-norm Marian and BART layers")
        }

        bosTokenId = try optionalInt("bos_token_id")
        padTokenId = try optionalInt("pad_token_id")
        if let list = c["eos_token_id"]?.arrayValue {
            eosTokenIds = list.compactMap(\.intValue)
        } else if let single = try optionalInt("eos_token_id") {
            eosTokenIds = [single]
        } else {
            eosTokenIds = []
        }
        guard let start = try optionalInt("decoder_start_token_id") ?? (architecture == .marian ? padTokenId : eosTokenIds.first) else {
            throw .format("\(path): missing \"decoder_start_token_id\"")
        }
        decoderStartTokenId = start

        try ConfigDimensions.check([("vocab_size", sourceVocabSize), ("decoder_vocab_size", vocabSize), ("d_model", hiddenSize),
                                    ("encoder_layers", encoderLayerCount), ("decoder_layers", decoderLayerCount),
                                    ("encoder_attention_heads", encoderHeadCount), ("decoder_attention_heads", decoderHeadCount),
                                    ("encoder_ffn_dim", encoderFeedForwardSize), ("decoder_ffn_dim", decoderFeedForwardSize)],
                                   path: path)
        let sourceKey = c["max_source_positions"].map { $0.isNull ? "max_position_embeddings" : "max_source_positions" } ?? "max_position_embeddings"
        let targetKey = c["max_target_positions"].map { $0.isNull ? "max_position_embeddings" : "max_target_positions" } ?? "max_position_embeddings"
        try ConfigDimensions.check([(sourceKey, maxSourcePositions), (targetKey, contextLength)],
                                   below: ConfigDimensions.encoderDecoderPositionLimit, path: path)
        guard hiddenSize % encoderHeadCount == 0, hiddenSize % decoderHeadCount == 0 else {
            throw .format("\(path): d_model \(hiddenSize) is not divisible by the number of attention heads")
        }
        guard hiddenSize % 2 == 0 else { throw .unsupported("\(path): odd d_model \(hiddenSize)") }
        guard decoderStartTokenId >= 0, decoderStartTokenId < vocabSize else {
            throw .format("\(path): inconsistent vocabulary sizes: decoder_start_token_id \(decoderStartTokenId) is outside the target vocabulary [0, \(vocabSize))")
        }
        for id in eosTokenIds where id < 0 || id >= vocabSize {
            throw .format("\(path): inconsistent vocabulary sizes: eos_token_id \(id) is outside the target vocabulary [0, \(vocabSize))")
        }
    }
}

/// Reads a model directory's config.json as a JSON object.
enum ConfigFile {
    static func read(directory: String) throws(SpecDecError) -> (JSONObject, String) {
        guard FileSystem.isDirectory(directory) else {
            throw .io("model directory \(directory) does not exist or is not a directory")
        }
        let path = FileSystem.join(directory, "config.json")
        guard FileSystem.exists(path) else { throw .io("\(path) not found") }
        let json: JSONValue
        do { json = try JSONParser.parse(try MappedFile.readAll(path)) } catch let error as JSONParseError {
            throw .format("\(path): invalid JSON: \(error)")
        } catch let error as SpecDecError { throw error } catch { throw .internal("\(error)") }
        guard let object = json.objectValue else { throw .format("\(path): top level is not a JSON object") }
        return (object, path)
    }
}
