/// The per-sequence state of batched decoding, carved from the session's arena when the
/// session is created for more than one sequence: a KV cache each (every one of the
/// session's kv_capacity), for encoder-decoder models the encoded source's cross-attention
/// keys and values each, a sampler each, and one logits row per sequence. Slot i is row i
/// of a batched pass; a finished sequence's slot is refilled from the queue. Encoder-decoder
/// slots have as many memories again for sources encoded ahead of their turn (staged).
final class SequenceSlots {
    let count: Int
    let caches: UnsafeMutablePointer<KVCache>               // [count]
    let memories: UnsafeMutablePointer<CrossAttentionMemory>? // [2 · count]: rows', then staging (encoder-decoder only)
    private var staged: [Int: Int] = [:]                    // queued input → staging memory holding it
    private var freeStaging: [Int] = []
    let logits: UnsafeMutablePointer<Float>                 // [count][vocab]
    let tokens: UnsafeMutablePointer<Int32>                 // [count] each row's next input token
    let positions: UnsafeMutablePointer<Int32>              // [count]
    var samplers: [Sampler]
    let vocabSize: Int

    /// Bytes the slots take from an arena.
    static func footprint(count: Int, layerCount: Int, capacity: Int, width: Int, vocabSize: Int,
                          source: (capacity: Int, layers: Int, width: Int)?) -> Int {
        guard count > 1 else { return 0 }
        var bytes = count * KVCache.footprint(layerCount: layerCount, capacity: capacity, width: width)
            + Arena.footprint(Float.self, count: count * vocabSize) + 2 * Arena.footprint(Int32.self, count: count)
            + count * Sampler.footprint(vocabSize: vocabSize)
            + Arena.footprint(KVCache.self, count: count)
        if let source {
            bytes += 2 * count * (Arena.footprint(Float.self, count: source.capacity * source.width)
                                  + 2 * Arena.footprint(Float.self, count: source.layers * source.capacity * source.width))
                + Arena.footprint(CrossAttentionMemory.self, count: 2 * count)
        }
        return bytes
    }

    init(count: Int, layerCount: Int, capacity: Int, width: Int, vocabSize: Int,
         source: (capacity: Int, layers: Int, width: Int)?, arena: Arena) throws(SpecDecError) {
        self.count = count
        self.vocabSize = vocabSize
        caches = try arena.allocate(KVCache.self, count: count)
        for i in 0..<count {
            (caches + i).initialize(to: try KVCache(layerCount: layerCount, capacity: capacity, width: width, arena: arena))
        }
        if let source {
            let memories = try arena.allocate(CrossAttentionMemory.self, count: 2 * count)
            for i in 0..<(2 * count) {
                (memories + i).initialize(to: CrossAttentionMemory(
                    encoderOutput: try arena.allocate(Float.self, count: source.capacity * source.width),
                    keys: try arena.allocate(Float.self, count: source.layers * source.capacity * source.width),
                    values: try arena.allocate(Float.self, count: source.layers * source.capacity * source.width),
                    capacity: source.capacity, width: source.width))
            }
            self.memories = memories
        } else {
            memories = nil
        }
        logits = try arena.allocate(Float.self, count: count * vocabSize)
        tokens = try arena.allocate(Int32.self, count: count)
        positions = try arena.allocate(Int32.self, count: count)
        var samplers: [Sampler] = []
        for _ in 0..<count { samplers.append(try Sampler(vocabSize: vocabSize, arena: arena)) }
        self.samplers = samplers
    }

    func logits(_ slot: Int) -> UnsafeMutablePointer<Float> { logits + slot * vocabSize }

    /// Forgets what was staged (a new batch call).
    func clearStaging() {
        staged.removeAll(keepingCapacity: true)
        freeStaging.removeAll(keepingCapacity: true)
        if memories != nil { freeStaging.append(contentsOf: count..<(2 * count)) }
    }

    /// When input `index` was encoded ahead, moves its memory into row `slot` (the row's
    /// old memory becomes free staging) and returns true.
    func takeStaged(_ index: Int, into slot: Int) -> Bool {
        guard let from = staged.removeValue(forKey: index), let memories else { return false }
        Swift.swap(&memories[slot], &memories[from])
        freeStaging.append(from)
        return true
    }

    func isStaged(_ index: Int) -> Bool { staged[index] != nil }

    /// A free staging memory for queued input `index` (nil when none is free or it is staged).
    func freeStagingMemory(for index: Int) -> UnsafeMutablePointer<CrossAttentionMemory>? {
        guard !isStaged(index), let last = freeStaging.last, let memories else { return nil }
        return memories + last
    }

    /// Records that queued input `index` now sits in the staging memory `freeStagingMemory` gave.
    func stage(_ index: Int) { staged[index] = freeStaging.removeLast() }

    /// Exchanges the state of two slots (not their logits rows: see `BatchDecodingLoop`).
    func swap(_ i: Int, _ j: Int) {
        guard i != j else { return }
        Swift.swap(&caches[i], &caches[j])
        if let memories { Swift.swap(&memories[i], &memories[j]) }
        Swift.swap(&tokens[i], &tokens[j])
        samplers.swapAt(i, j)
    }
}
