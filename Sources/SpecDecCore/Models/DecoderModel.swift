/// Which rows of a forward pass need logits: every new token (verification, scoring)
/// or just the last one (generation).
public enum LogitRows: Sendable {
    case all
    case last
}

/// A decoder-only language model: the loop that turns new tokens plus the KV cache into
/// next-token logits. Implementations are immutable after loading and shared by sessions.
public protocol DecoderModel: AnyObject, Sendable {
    var config: ModelConfig { get }
    var parameterCount: Int { get }
    /// The tensors, with the precision and kernel path the load chose.
    var weights: WeightStore { get }

    /// Runs `count` new tokens through the model. Their keys and values are written to
    /// `cache` slots `cache.length ..< cache.length + count` and committed.
    /// - logits: `count` (or 1 for `.last`) rows of vocabSize floats, or nil.
    /// - batchMask: count × count visibility among the new tokens (nil = causal).
    func forward(
        tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count: Int,
        cache: inout KVCache, scratch: ForwardScratch, pool: ThreadPool,
        logits: UnsafeMutablePointer<Float>?, rows: LogitRows, batchMask: UnsafePointer<UInt8>?)

    /// Runs one next token for each of `count` sequences: token t goes into caches[t] after
    /// what it holds; row t of `logits` gets its next-token logits, exactly as `forward`
    /// would compute them for that sequence alone. (The default runs the rows one by one.)
    func forwardEachSequence(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count: Int,
                             caches: UnsafeMutablePointer<KVCache>, scratch: ForwardScratch, pool: ThreadPool,
                             logits: UnsafeMutablePointer<Float>)
}

extension DecoderModel {
    public func forwardEachSequence(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count: Int,
                                    caches: UnsafeMutablePointer<KVCache>, scratch: ForwardScratch, pool: ThreadPool,
                                    logits: UnsafeMutablePointer<Float>) {
        for t in 0..<count {
            forward(tokens: tokens + t, positions: positions + t, count: 1, cache: &caches[t], scratch: scratch, pool: pool,
                    logits: logits + t * config.vocabSize, rows: .last, batchMask: nil)
        }
    }
}

/// Loads whichever supported architecture a Hugging Face directory holds.
public enum ModelLoader {
    public static func load(directory: String, useMmap: Bool = true) throws(SpecDecError) -> any DecoderModel {
        try load(directory: directory, options: LoadOptions(useMmap: useMmap))
    }

    public static func load(directory: String, options: LoadOptions) throws(SpecDecError) -> any DecoderModel {
        let config = try ModelConfig.load(directory: directory)
        let weights = try WeightStore(directory: directory, options: options)
        switch config.architecture {
        case .llama: return try LlamaModel(config: config, weights: weights)
        case .gpt2: return try GPT2Model(config: config, weights: weights)
        }
    }
}
