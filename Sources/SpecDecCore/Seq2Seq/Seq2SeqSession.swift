/// One translation (or summarisation) in progress: the encoded source, each decoder layer's
/// cross-attention keys and values (computed once per source), the decoder's self-attention
/// cache, scratch memory and sampler, all in one arena allocated at creation. Beam search
/// adds a workspace of its own, allocated on first use and reused (see `reserveBeams`).
///
/// The decoder is driven like `Session`: `evaluate` appends tokens to the decoder cache and
/// returns logits, `truncate(to:)` rolls back, `length` is the decoder length (the start token
/// included). `setSource` must come first; it empties the decoder cache. Used by one thread at
/// a time.
public final class Seq2SeqSession {
    public let model: EncoderDecoderModel
    public let arena: Arena
    public let pool: ThreadPool
    public let maxBatch: Int
    /// Longest source this session accepts (<= the model's maxSourcePositions).
    public let sourceCapacity: Int
    /// Decoder self-attention cache (slot 0 holds the start token once decoding begins).
    public internal(set) var cache: KVCache
    var memory: CrossAttentionMemory
    let sourceTokens: UnsafeMutablePointer<Int32>    // [sourceCapacity]
    let scratch: Seq2SeqScratch
    var sampler: Sampler
    let nextLogits: UnsafeMutablePointer<Float>      // [vocab]
    let positionScratch: UnsafeMutablePointer<Int32> // [maxBatch]
    var beamWorkspace: BeamWorkspace?
    /// Batched decoding's sequences (nil when the session was made for one sequence).
    let slots: SequenceSlots?
    /// Most sequences one batched call decodes together.
    public let maxSequences: Int
    public internal(set) var stats = GenerationStats()
    /// How many times the encoder has run (once per distinct source).
    public internal(set) var encoderRuns = 0

    public var config: EncoderDecoderConfig { model.config }
    /// Tokens in the decoder cache.
    public var length: Int { cache.length }
    /// Decoder cache capacity.
    public var capacity: Int { cache.capacity }
    /// Tokens of the current source (0 before `setSource`).
    public var sourceLength: Int { memory.length }
    public var source: [Int32] { Array(UnsafeBufferPointer(start: sourceTokens, count: memory.length)) }
    /// The encoder's output for the current source: sourceLength rows of d_model floats, valid
    /// until the next `setSource`.
    public var encoderOutput: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: memory.encoderOutput, count: memory.length * config.hiddenSize)
    }

    /// - sourceCapacity: longest source (0 = the model's maxSourcePositions).
    /// - capacity: decoder cache slots (0 = the model's decoder context length).
    /// - maxSequences: sequences a batched call decodes together (each gets a decoder cache
    ///   of `capacity` and a source of `sourceCapacity`); at most `maxBatch`.
    public init(model: EncoderDecoderModel, sourceCapacity requestedSource: Int = 0, capacity requested: Int = 0,
                threads: Int = 0, backend: ArenaBackend = .automatic, maxBatch: Int = 64, maxSequences: Int = 1) throws(SpecDecError) {
        let c = model.config
        guard requested >= 0 else { throw .invalidArgument("kv_capacity must be >= 0 (got \(requested))") }
        guard requestedSource >= 0 else { throw .invalidArgument("source capacity must be >= 0 (got \(requestedSource))") }
        guard threads >= 0 else { throw .invalidArgument("n_threads must be >= 0 (got \(threads))") }
        guard maxBatch >= 1, maxBatch <= 4096 else { throw .invalidArgument("max_batch must be in 1...4096 (got \(maxBatch))") }
        let capacity = requested == 0 ? c.contextLength : requested
        guard capacity <= c.contextLength else {
            throw .init(.capacity, "kv_capacity \(capacity) exceeds the model's decoder context length \(c.contextLength)")
        }
        guard maxSequences >= 1, maxSequences <= maxBatch else {
            throw .invalidArgument("max_sequences must be in 1...max_batch (\(maxBatch)) (got \(maxSequences))")
        }
        let sourceCapacity = requestedSource == 0 ? c.maxSourcePositions : requestedSource
        guard sourceCapacity <= c.maxSourcePositions else {
            throw .init(.capacity, "source capacity \(sourceCapacity) exceeds the model's maximum source length \(c.maxSourcePositions)")
        }
        let threadCount = min(64, threads == 0 ? Clock.onlineProcessors : threads)
        let d = c.hiddenSize
        let rows = max(maxBatch, sourceCapacity)
        let longest = max(sourceCapacity, capacity + maxBatch)
        let bytes = KVCache.footprint(layerCount: c.decoderLayerCount, capacity: capacity, width: d)
            + 2 * Arena.footprint(Float.self, count: c.decoderLayerCount * sourceCapacity * d)
            + Arena.footprint(Float.self, count: sourceCapacity * d)
            + Arena.footprint(Int32.self, count: sourceCapacity)
            + Seq2SeqScratch.footprint(c, rows: rows, threads: threadCount, longestAttention: longest)
            + Sampler.footprint(vocabSize: c.vocabSize)
            + Arena.footprint(Float.self, count: c.vocabSize) + Arena.footprint(Int32.self, count: maxBatch)
        let sourceShape = (capacity: sourceCapacity, layers: c.decoderLayerCount, width: d)
        let slotBytes = SequenceSlots.footprint(count: maxSequences, layerCount: c.decoderLayerCount, capacity: capacity,
                                                width: d, vocabSize: c.vocabSize, source: sourceShape)
        self.model = model
        self.maxSequences = maxSequences
        self.maxBatch = maxBatch
        self.sourceCapacity = sourceCapacity
        arena = try Arena(byteCount: bytes + slotBytes, backend: backend)
        cache = try KVCache(layerCount: c.decoderLayerCount, capacity: capacity, width: d, arena: arena)
        memory = CrossAttentionMemory(
            encoderOutput: try arena.allocate(Float.self, count: sourceCapacity * d),
            keys: try arena.allocate(Float.self, count: c.decoderLayerCount * sourceCapacity * d),
            values: try arena.allocate(Float.self, count: c.decoderLayerCount * sourceCapacity * d),
            capacity: sourceCapacity, width: d)
        sourceTokens = try arena.allocate(Int32.self, count: sourceCapacity)
        scratch = try Seq2SeqScratch(c, rows: rows, threads: threadCount, longestAttention: longest, arena: arena)
        sampler = try Sampler(vocabSize: c.vocabSize, arena: arena)
        nextLogits = try arena.allocate(Float.self, count: c.vocabSize)
        positionScratch = try arena.allocate(Int32.self, count: maxBatch)
        slots = maxSequences > 1
            ? try SequenceSlots(count: maxSequences, layerCount: c.decoderLayerCount, capacity: capacity, width: d,
                                vocabSize: c.vocabSize, source: sourceShape, arena: arena)
            : nil
        pool = ThreadPool(threadCount: threadCount)
    }

    /// Checks a source before any work: non-empty, ids in the source vocabulary, not too long.
    public func validate(source: UnsafeBufferPointer<Int32>) throws(SpecDecError) {
        guard source.count >= 1 else { throw .invalidArgument("the source must hold at least one token") }
        let vocab = config.sourceVocabSize
        for (i, id) in source.enumerated() where id < 0 || Int(id) >= vocab {
            throw .init(.tokenOutOfRange, "source token id \(id) at index \(i) is outside the source vocabulary [0, \(vocab))")
        }
        guard source.count <= config.maxSourcePositions else {
            throw .init(.capacity, "the source has \(source.count) tokens but the model accepts at most \(config.maxSourcePositions)")
        }
        guard source.count <= sourceCapacity else {
            throw .init(.capacity, "the source has \(source.count) tokens but the session's source capacity is \(sourceCapacity)")
        }
    }

    /// Encodes `source` (ids as the tokenizer gives them, EOS included) and computes every
    /// decoder layer's cross-attention keys and values. Empties the decoder cache. When the
    /// source equals the current one the encoder does not run again. On failure nothing changes.
    public func setSource(_ source: UnsafeBufferPointer<Int32>) throws(SpecDecError) {
        try validate(source: source)
        cache.truncate(to: 0)
        if source.count == memory.length, (0..<source.count).allSatisfy({ sourceTokens[$0] == source[$0] }) { return }
        memory.length = 0
        sourceTokens.update(from: source.baseAddress!, count: source.count)
        model.encode(source: sourceTokens, count: source.count, scratch: scratch, pool: pool, memory: &memory)
        encoderRuns += 1
    }

    public func setSource(_ source: [Int32]) throws(SpecDecError) {
        try source.withUnsafeBufferPointer { (s) throws(SpecDecError) in try setSource(s) }
    }

    /// Empties the decoder cache and the statistics (the source stays).
    public func reset() {
        cache.truncate(to: 0)
        stats = GenerationStats()
    }

    /// Forgets the source too (the next `setSource` runs the encoder).
    public func clearSource() {
        reset()
        memory.length = 0
    }

    var pass: DecoderPass {
        DecoderPass(vocabSize: config.vocabSize, contextLength: config.contextLength, maxBatch: maxBatch,
                    vocabularyName: "target vocabulary", cacheName: "decoder cache", lengthName: "decoder context length")
    }

    public func truncate(to newLength: Int) throws(SpecDecError) {
        try pass.truncate(&cache, to: newLength)
    }

    /// Checks decoder ids (and positions) before any work, so a failing call changes nothing.
    public func validate(tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>?) throws(SpecDecError) {
        try pass.validate(tokens: tokens, positions: positions)
    }

    /// Runs decoder tokens (appended to the decoder cache) and writes logits for `rows`. The
    /// first token of a sequence is `config.decoderStartTokenId`; the caller adds it.
    /// - positions: one per token, or nil for consecutive positions after the cache.
    /// - batchMask: tokens × tokens visibility among the new tokens (nil = causal).
    public func evaluate(tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>? = nil,
                         logits: UnsafeMutablePointer<Float>?, rows: LogitRows = .all,
                         batchMask: UnsafePointer<UInt8>? = nil) throws(SpecDecError) {
        guard memory.length > 0 else { throw .invalidArgument("no source: call setSource before evaluating decoder tokens") }
        let positionPointer = try pass.positions(for: tokens, given: positions, cache: cache, scratch: positionScratch)
        model.decode(tokens: tokens.baseAddress!, positions: positionPointer, count: tokens.count, cache: &cache, memory: memory,
                     selfAttention: .sequence(batchMask: batchMask), scratch: scratch, pool: pool, logits: logits, rows: rows)
    }
}
