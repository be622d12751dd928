/// Whose KV cache each row of a decoder pass belongs to. A pass over one sequence's new
/// tokens (prefill, a step, a draft to verify) writes every row into one cache; a batched
/// step over many sequences has one row per sequence, each with a cache of its own. The
/// projections are the same either way; only where keys and values go, and what a row's
/// attention reads, differ.
enum DecoderRowBinding {
    /// Every row is a new token of caches[0].
    case oneSequence
    /// Row t is the next token of the sequence whose cache is caches[t].
    case onePerSequence

    var isPerSequence: Bool { if case .onePerSequence = self { return true } else { return false } }

    /// Records the rows' ids and positions in their caches.
    func stage(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int, caches: UnsafeMutablePointer<KVCache>) {
        switch self {
        case .oneSequence: caches[0].stage(tokens: tokens, positions: positions, count: n)
        case .onePerSequence: for t in 0..<n { caches[t].stage(tokens: tokens + t, positions: positions + t, count: 1) }
        }
    }

    /// Where the key and value projections write: the cache slots after caches[0]'s end, or
    /// the scratch rows `keys`/`values` (`stride` floats apart) to be scattered afterwards.
    func keyValueDestination(caches: UnsafeMutablePointer<KVCache>, layer: Int, keys: UnsafeMutablePointer<Float>,
                             values: UnsafeMutablePointer<Float>, stride: Int)
        -> (keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, stride: Int) {
        switch self {
        case .oneSequence:
            let cache = caches[0]
            return (cache.keys(layer: layer) + cache.length * cache.width, cache.values(layer: layer) + cache.length * cache.width, cache.width)
        case .onePerSequence:
            return (keys, values, stride)
        }
    }

    /// One row per sequence: copies row t of the scratch keys and values into caches[t]'s next slot.
    func scatterKeyValues(caches: UnsafeMutablePointer<KVCache>, layer: Int, count n: Int, keys: UnsafePointer<Float>,
                          values: UnsafePointer<Float>, stride: Int) {
        guard isPerSequence else { return }
        for t in 0..<n {
            let cache = caches[t]
            (cache.keys(layer: layer) + cache.length * cache.width).update(from: keys + t * stride, count: cache.width)
            (cache.values(layer: layer) + cache.length * cache.width).update(from: values + t * stride, count: cache.width)
        }
    }

    func commit(count n: Int, caches: UnsafeMutablePointer<KVCache>) {
        switch self {
        case .oneSequence: caches[0].commitAppend(n)
        case .onePerSequence: for t in 0..<n { caches[t].commitAppend(1) }
        }
    }
}
