/// One sequence being decoded: its KV cache, scratch memory, sampler and statistics, all
/// in one arena allocated at creation. Used by one thread at a time.
public final class Session {
    public let model: any DecoderModel
    public let arena: Arena
    public let pool: ThreadPool
    public let maxBatch: Int
    public internal(set) var cache: KVCache
    let scratch: ForwardScratch
    var sampler: Sampler
    let nextLogits: UnsafeMutablePointer<Float>   // [vocab] logits of the newest token
    let positionScratch: UnsafeMutablePointer<Int32> // [maxBatch]
    public internal(set) var stats = GenerationStats()
    /// Batched decoding's sequences (nil when the session was made for one sequence).
    let slots: SequenceSlots?
    /// Most sequences one batched call decodes together.
    public let maxSequences: Int

    public var config: ModelConfig { model.config }
    public var length: Int { cache.length }
    public var capacity: Int { cache.capacity }

    /// - maxSequences: sequences a batched call decodes together (each gets a KV cache of
    ///   `capacity`); at most `maxBatch`.
    public init(model: any DecoderModel, capacity requested: Int = 0, threads: Int = 0,
                backend: ArenaBackend = .automatic, maxBatch: Int = 64, maxSequences: Int = 1) throws(SpecDecError) {
        let c = model.config
        guard requested >= 0 else { throw .invalidArgument("kv_capacity must be >= 0 (got \(requested))") }
        guard threads >= 0 else { throw .invalidArgument("n_threads must be >= 0 (got \(threads))") }
        guard maxBatch >= 1, maxBatch <= 4096 else { throw .invalidArgument("max_batch must be in 1...4096 (got \(maxBatch))") }
        let capacity = requested == 0 ? c.contextLength : requested
        guard capacity <= c.contextLength else {
            throw .init(.capacity, "kv_capacity \(capacity) exceeds the model's context length \(c.contextLength)")
        }
        guard maxSequences >= 1, maxSequences <= maxBatch else {
            throw .invalidArgument("max_sequences must be in 1...max_batch (\(maxBatch)) (got \(maxSequences))")
        }
        let threadCount = min(64, threads == 0 ? Clock.onlineProcessors : threads)
        let bytes = KVCache.footprint(layerCount: c.layerCount, capacity: capacity, width: c.kvDim)
            + ForwardScratch.footprint(c, maxBatch: maxBatch, threads: threadCount, capacity: capacity)
            + Sampler.footprint(vocabSize: c.vocabSize)
            + Arena.footprint(Float.self, count: c.vocabSize) + Arena.footprint(Int32.self, count: maxBatch)
        let slotBytes = SequenceSlots.footprint(count: maxSequences, layerCount: c.layerCount, capacity: capacity,
                                                width: c.kvDim, vocabSize: c.vocabSize, source: nil)
        self.model = model
        self.maxBatch = maxBatch
        self.maxSequences = maxSequences
        arena = try Arena(byteCount: bytes + slotBytes, backend: backend)
        cache = try KVCache(layerCount: c.layerCount, capacity: capacity, width: c.kvDim, arena: arena)
        scratch = try ForwardScratch(c, maxBatch: maxBatch, threads: threadCount, capacity: capacity, arena: arena)
        sampler = try Sampler(vocabSize: c.vocabSize, arena: arena)
        nextLogits = try arena.allocate(Float.self, count: c.vocabSize)
        positionScratch = try arena.allocate(Int32.self, count: maxBatch)
        slots = maxSequences > 1
            ? try SequenceSlots(count: maxSequences, layerCount: c.layerCount, capacity: capacity, width: c.kvDim,
                                vocabSize: c.vocabSize, source: nil, arena: arena)
            : nil
        pool = ThreadPool(threadCount: threadCount)
    }

    /// Empties the cache and the statistics.
    public func reset() {
        cache.truncate(to: 0)
        stats = GenerationStats()
    }

    var pass: DecoderPass {
        DecoderPass(vocabSize: config.vocabSize, contextLength: config.contextLength, maxBatch: maxBatch,
                    vocabularyName: "vocabulary", cacheName: "cache", lengthName: "context length")
    }

    public func truncate(to newLength: Int) throws(SpecDecError) {
        try pass.truncate(&cache, to: newLength)
    }

    /// Checks ids (and positions) before any work, so a failing call changes nothing.
    public func validate(tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>?) throws(SpecDecError) {
        try pass.validate(tokens: tokens, positions: positions)
    }

    /// Scores `tokens` (appended to the cache) and writes logits for `rows`.
    /// - positions: one per token, or nil for consecutive positions after the cache.
    /// - batchMask: tokens × tokens visibility among the new tokens (nil = causal).
    public func evaluate(tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>? = nil,
                         logits: UnsafeMutablePointer<Float>?, rows: LogitRows = .all,
                         batchMask: UnsafePointer<UInt8>? = nil) throws(SpecDecError) {
        let positionPointer = try pass.positions(for: tokens, given: positions, cache: cache, scratch: positionScratch)
        model.forward(tokens: tokens.baseAddress!, positions: positionPointer, count: tokens.count, cache: &cache,
                      scratch: scratch, pool: pool, logits: logits, rows: rows, batchMask: batchMask)
    }
}
