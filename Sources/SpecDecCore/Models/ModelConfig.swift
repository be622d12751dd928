import SpecDecJSON

/// The families of decoder-only models the engine runs.
public enum Architecture: Int32, Sendable {
    case llama = 1   // Llama, Mistral, Qwen2
    case gpt2 = 2
}

/// The hyper-parameters read from config.json, normalised across families.
public struct ModelConfig: Sendable {
    public var modelType: String
    public var architecture: Architecture
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var contextLength: Int
    public var normEpsilon: Float
    public var ropeTheta: Float
    public var tiedEmbeddings: Bool
    public var attentionBias: Bool       // q/k/v (and o for Llama's attention_bias) biases
    public var outputProjectionBias: Bool
    public var mlpBias: Bool
    public var slidingWindow: Int?
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    public static func load(directory: String) throws(SpecDecError) -> ModelConfig {
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
        return try ModelConfig(object, path: path)
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
        func optionalInt(_ key: String) -> Int? { c[key]?.intValue }
        func double(_ key: String, _ fallback: Double) throws(SpecDecError) -> Double {
            guard let v = c[key], !v.isNull else { return fallback }
            guard let d = v.doubleValue else { throw .format("\(path): \"\(key)\" is not a number") }
            return d
        }
        func bool(_ key: String, _ fallback: Bool) -> Bool { c[key]?.boolValue ?? fallback }

        guard let type = c["model_type"]?.stringValue else { throw .format("\(path): missing \"model_type\"") }
        modelType = type
        bosTokenId = optionalInt("bos_token_id")
        padTokenId = optionalInt("pad_token_id")
        if let list = c["eos_token_id"]?.arrayValue {
            eosTokenIds = list.compactMap(\.intValue)
        } else if let single = optionalInt("eos_token_id") {
            eosTokenIds = [single]
        } else {
            eosTokenIds = []
        }
        slidingWindow = nil
        switch type {
        case "llama", "mistral", "qwen2":
            architecture = .llama
            vocabSize = try int("vocab_size")
            hiddenSize = try int("hidden_size")
            intermediateSize = try int("intermediate_size")
            layerCount = try int("num_hidden_layers")
            headCount = try int("num_attention_heads")
            kvHeadCount = try int("num_key_value_heads", headCount)
            headDim = try int("head_dim", headCount > 0 ? hiddenSize / headCount : 0)
            contextLength = try int("max_position_embeddings", 2048)
            normEpsilon = Float(try double("rms_norm_eps", 1e-6))
            // transformers 5 writes rope_parameters {rope_theta, rope_type}; older files a top-level rope_theta.
            let ropeParameters = c["rope_parameters"]?.objectValue
            let topLevelTheta = try double("rope_theta", 10000)
            ropeTheta = Float(ropeParameters?["rope_theta"]?.doubleValue ?? topLevelTheta)
            tiedEmbeddings = bool("tie_word_embeddings", false)
            let llamaBias = bool("attention_bias", false)
            attentionBias = type == "qwen2" ? true : llamaBias
            outputProjectionBias = type == "qwen2" ? false : llamaBias
            mlpBias = bool("mlp_bias", false)
            if type != "llama", bool("use_sliding_window", type == "mistral"), let window = optionalInt("sliding_window") {
                slidingWindow = window
            }
            for key in ["rope_scaling", "rope_parameters"] {
                guard let scaling = c[key], !scaling.isNull else { continue }
                let kind = scaling["rope_type"]?.stringValue ?? scaling["type"]?.stringValue ?? "default"
                if kind != "default" { throw .unsupported("\(path): \(key) of type \"\(kind)\" is not supported") }
            }
            if let act = c["hidden_act"]?.stringValue, act != "silu" {
                throw .unsupported("\(path): hidden_act \"\(act)\" is not supported for \(type) (expected silu)")
            }
        case "gpt2":
            architecture = .gpt2
            vocabSize = try int("vocab_size")
            hiddenSize = try int("n_embd")
            layerCount = try int("n_layer")
            headCount = try int("n_head")
            kvHeadCount = headCount
            headDim = headCount > 0 ? hiddenSize / headCount : 0
            intermediateSize = try int("n_inner", 4 * hiddenSize)
            contextLength = try int("n_positions", 1024)
            normEpsilon = Float(try double("layer_norm_epsilon", 1e-5))
            ropeTheta = 0
            tiedEmbeddings = bool("tie_word_embeddings", true)
            attentionBias = true
            outputProjectionBias = true
            mlpBias = true
            if let act = c["activation_function"]?.stringValue, act != "gelu_new" {
                throw .unsupported("\(path): activation_function \"\(act)\" is not supported for gpt2 (expected gelu_new)")
            }
            if bool("scale_attn_by_inverse_layer_idx", false) || bool("reorder_and_upcast_attn", false) {
                throw .unsupported("\(path): scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported")
            }
        case "marian", "bart":
            throw .unsupported("\(path): \"\(type)\" is an encoder-decoder model; load it with EncoderDecoderLoader.load and run it in a Seq2SeqSession")
        default:
            throw .unsupported("\(path): unknown architecture \"\(type)\"; supported: llama, mistral, qwen2, gpt2")
        }
        let names = architecture == .gpt2
            ? ["vocab_size", "n_embd", "n_inner", "n_layer", "n_head", "n_head", "n_embd / n_head", "n_positions"]
            : ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
               "num_key_value_heads", "head_dim", "max_position_embeddings"]
        let sizes = [vocabSize, hiddenSize, intermediateSize, layerCount, headCount, kvHeadCount, headDim, contextLength]
        try ConfigDimensions.check(Array(zip(names, sizes)).map { (key: $0.0, value: $0.1) }, path: path)
        guard headCount % kvHeadCount == 0 else {
            throw .format("\(path): num_attention_heads (\(headCount)) is not a multiple of num_key_value_heads (\(kvHeadCount))")
        }
        guard headDim % 2 == 0 else { throw .unsupported("\(path): odd head dimension \(headDim)") }
        if let window = slidingWindow, window <= 0 { slidingWindow = nil }
    }

    public var kvDim: Int { kvHeadCount * headDim }
    public var queryDim: Int { headCount * headDim }
}
