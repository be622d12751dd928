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
    /// Rows grouped by sequence: group g's rows are new tokens of caches[g], in order
    /// (encoder-decoder models: verifying every sequence's draft in one pass).
    case sequenceGroups(SequenceRowGroups)

    var isPerSequence: Bool { if case .onePerSequence = self { return true } else { return false } }

    /// The grouping of `.sequenceGroups` (nil otherwise).
    var groups: SequenceRowGroups? { if case .sequenceGroups(let g) = self { return g } else { return nil } }

    /// Records the rows' ids and positions in their caches.
    func stage(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int, caches: UnsafeMutablePointer<KVCache>) {
        switch self {
        case .oneSequence: caches[0].stage(tokens: tokens, positions: positions, count: n)
        case .onePerSequence: for t in 0..<n { caches[t].stage(tokens: tokens + t, positions: positions + t, count: 1) }
        case .sequenceGroups(let groups):
            for g in 0..<groups.count {
                let first = groups.first(g)
                caches[g].stage(tokens: tokens + first, positions: positions + first, count: groups.rowCount(g))
            }
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
        case .onePerSequence, .sequenceGroups:
            return (keys, values, stride)
        }
    }

    /// Rows of many sequences: copies each row of the scratch keys and values into its
    /// cache's slot (caches[t]'s next slot, or group g's i-th new slot in caches[g]).
    func scatterKeyValues(caches: UnsafeMutablePointer<KVCache>, layer: Int, count n: Int, keys: UnsafePointer<Float>,
                          values: UnsafePointer<Float>, stride: Int) {
        let groups: SequenceRowGroups?
        switch self {
        case .oneSequence: return
        case .onePerSequence: groups = nil
        case .sequenceGroups(let g): groups = g
        }
        for t in 0..<n {
            let (g, i, _) = groups?.locate(t) ?? (t, 0, 1)
            let cache = caches[g]
            (cache.keys(layer: layer) + (cache.length + i) * cache.width).update(from: keys + t * stride, count: cache.width)
            (cache.values(layer: layer) + (cache.length + i) * cache.width).update(from: values + t * stride, count: cache.width)
        }
    }

    func commit(count n: Int, caches: UnsafeMutablePointer<KVCache>) {
        switch self {
        case .oneSequence: caches[0].commitAppend(n)
        case .onePerSequence: for t in 0..<n { caches[t].commitAppend(1) }
        case .sequenceGroups(let groups): for g in 0..<groups.count { caches[g].commitAppend(groups.rowCount(g)) }
        }
    }
}

/// The rows of a pass grouped by sequence: group g is rows firstRows[g] ..< firstRows[g + 1]
/// (consecutive), and groupOfRow[t] names row t's group.
struct SequenceRowGroups {
    let firstRows: UnsafePointer<Int32>   // [count + 1]
    let groupOfRow: UnsafePointer<Int32>  // [rows]
    let count: Int

    func first(_ g: Int) -> Int { Int(firstRows[g]) }
    func rowCount(_ g: Int) -> Int { Int(firstRows[g + 1] - firstRows[g]) }

    /// Row t's group, its index inside the group, and the group's row count.
    func locate(_ t: Int) -> (group: Int, index: Int, count: Int) {
        let g = Int(groupOfRow[t])
        return (g, t - first(g), rowCount(g))
    }
}
