#if canImport(Glibc)
import Glibc
#endif

/// Which earlier positions a decoder token's self-attention sees.
enum DecoderSelfAttention {
    /// One sequence: every cached slot, plus the batch tokens j <= i (or batchMask[i·n + j] != 0).
    case sequence(batchMask: UnsafePointer<UInt8>?)
    /// Beam search: token t sees the cache slots history[t·stride ..< t·stride + lengths[t]] and
    /// its own new slot (cache.length + t). Beams share the slots of their common prefix.
    case gathered(history: UnsafePointer<Int32>, stride: Int, lengths: UnsafePointer<Int32>)
}

/// Attention over every (query token, head) pair of one layer, split over the pool.
private struct Seq2SeqAttentionJob {
    enum Kind { case all, segments, sequence, gathered, eachSequence, eachSource }
    var kind: Kind
    var query: UnsafePointer<Float>      // [count][width]
    var keys: UnsafePointer<Float>       // slot s, head h at keys + s·kvStride + h·headDim
    var values: UnsafePointer<Float>
    var kvStride: Int
    var headCount: Int
    var headDim: Int
    var width: Int
    var count: Int
    var slots: Int                       // .all: visible slots; .sequence: cached slots before the batch
    var batchMask: UnsafePointer<UInt8>?
    var history: UnsafePointer<Int32>?
    var historyStride: Int
    var historyLengths: UnsafePointer<Int32>?
    var caches: UnsafePointer<KVCache>?                     // .eachSequence: row t's cache
    var memories: UnsafePointer<CrossAttentionMemory>?      // .eachSource: row t's source
    var groups: SequenceRowGroups?                          // rows grouped by sequence (nil: one row each)
    var layer = 0
    var segmentStarts: UnsafePointer<Int32>?                // .segments: row t's source rows
    var segmentLengths: UnsafePointer<Int32>?
    var scores: UnsafeMutablePointer<Float>
    var scoresStride: Int                                   // one thread's scores
    var scoresPerHead: Int                                  // one head's, within them
    var output: UnsafeMutablePointer<Float> // [count][width]
    var everyHead = false                                   // chunks are rows (all heads), not (row, head) pairs
    var unitsPerChunk = 0
}

extension ThreadPool {
    /// Encoder self-attention and cross-attention: each query sees all `slots` keys.
    func attendEverySlot(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvStride: Int,
                   slots: Int, count: Int, headCount: Int, scratch: Seq2SeqScratch, output: UnsafeMutablePointer<Float>) {
        dispatchAttention(Seq2SeqAttentionJob(
            kind: .all, query: query, keys: keys, values: values, kvStride: kvStride, headCount: headCount,
            headDim: scratch.width / headCount, width: scratch.width, count: count, slots: slots, batchMask: nil,
            history: nil, historyStride: 0, historyLengths: nil, scores: scratch.scores, scoresStride: scratch.scoresStride,
            scoresPerHead: scratch.scoresPerHead, output: output), work: count * slots)
    }

    /// Decoder self-attention over `cache` (whose slots cache.length ..< cache.length + count hold the new tokens).
    func attendDecoder(query: UnsafePointer<Float>, cache: KVCache, layer: Int, count: Int, headCount: Int,
                       mode: DecoderSelfAttention, scratch: Seq2SeqScratch, output: UnsafeMutablePointer<Float>) {
        var job = Seq2SeqAttentionJob(
            kind: .sequence, query: query, keys: cache.keys(layer: layer), values: cache.values(layer: layer),
            kvStride: cache.width, headCount: headCount, headDim: scratch.width / headCount, width: scratch.width,
            count: count, slots: cache.length, batchMask: nil, history: nil, historyStride: 0, historyLengths: nil,
            scores: scratch.scores, scoresStride: scratch.scoresStride, scoresPerHead: scratch.scoresPerHead, output: output)
        var work = count * (cache.length + count)
        switch mode {
        case .sequence(let mask):
            job.batchMask = mask
        case .gathered(let history, let stride, let lengths):
            job.kind = .gathered
            job.history = history
            job.historyStride = stride
            job.historyLengths = lengths
            work = 0
            for t in 0..<count { work += Int(lengths[t]) + 1 }
        }
        dispatchAttention(job, work: work)
    }

    /// Encoder self-attention over several sources in one pass: row t sees the rows of its
    /// own source (scratch.segmentStarts/segmentLengths), as encoding that source alone.
    func attendWithinSegments(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int,
                              headCount: Int, scratch: Seq2SeqScratch, output: UnsafeMutablePointer<Float>) {
        var job = rowJob(.segments, query: query, keys: keys, values: values, count: count, headCount: headCount,
                         scratch: scratch, output: output)
        job.segmentStarts = UnsafePointer(scratch.segmentStarts)
        job.segmentLengths = UnsafePointer(scratch.segmentLengths)
        var work = 0
        for t in 0..<count { work += Int(scratch.segmentLengths[t]) }
        dispatchAttention(job, work: work)
    }

    /// Self-attention of a batched pass: row t is one new token of the sequence cached in
    /// caches[t] (whose slot caches[t].length already holds its key and value), or, with
    /// `groups`, the i-th new token of its group's cache, seeing the group's rows before it.
    func attendEachSequence(query: UnsafePointer<Float>, caches: UnsafePointer<KVCache>, groups: SequenceRowGroups?, layer: Int,
                            count: Int, headCount: Int, scratch: Seq2SeqScratch, output: UnsafeMutablePointer<Float>) {
        var job = rowJob(.eachSequence, query: query, keys: query, values: query, count: count, headCount: headCount,
                         scratch: scratch, output: output)
        job.caches = caches
        job.groups = groups
        job.layer = layer
        var work = 0
        for t in 0..<count {
            let (g, i, _) = groups?.locate(t) ?? (t, 0, 1)
            work += caches[g].length + i + 1
        }
        dispatchAttention(job, work: work)
    }

    /// Cross-attention of a batched pass: row t reads the source of memories[t] (with
    /// `groups`, of its group's memory).
    func attendEachSource(query: UnsafePointer<Float>, memories: UnsafePointer<CrossAttentionMemory>, groups: SequenceRowGroups?,
                          layer: Int, count: Int, headCount: Int, scratch: Seq2SeqScratch, output: UnsafeMutablePointer<Float>) {
        var job = rowJob(.eachSource, query: query, keys: query, values: query, count: count, headCount: headCount,
                         scratch: scratch, output: output)
        job.memories = memories
        job.groups = groups
        job.layer = layer
        var work = 0
        for t in 0..<count { work += memories[groups.map { Int($0.groupOfRow[t]) } ?? t].length }
        dispatchAttention(job, work: work)
    }

    /// A job whose keys and values are found per row (the caller sets where), `width` apart.
    private func rowJob(_ kind: Seq2SeqAttentionJob.Kind, query: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                        values: UnsafePointer<Float>, count: Int, headCount: Int, scratch: Seq2SeqScratch,
                        output: UnsafeMutablePointer<Float>) -> Seq2SeqAttentionJob {
        Seq2SeqAttentionJob(
            kind: kind, query: query, keys: keys, values: values, kvStride: scratch.width, headCount: headCount,
            headDim: scratch.width / headCount, width: scratch.width, count: count, slots: 0, batchMask: nil, history: nil,
            historyStride: 0, historyLengths: nil, scores: scratch.scores, scoresStride: scratch.scoresStride,
            scoresPerHead: scratch.scoresPerHead, output: output)
    }

    private func dispatchAttention(_ base: Seq2SeqAttentionJob, work: Int) {
        var job = base
        let small = work * job.width < ThreadPool.parallelWorkThreshold
        // Enough rows to keep every thread busy: one chunk per row, all heads at once (see
        // Attention.attendEveryHead); otherwise one chunk per (row, head) pair.
        job.everyHead = job.kind != .gathered && job.count >= 2 * threadCount
        let units = job.everyHead ? job.count : job.count * job.headCount
        job.unitsPerChunk = small ? units : 1
        run(chunks: small ? 1 : units, context: job) { raw, chunk, thread in
            let job = raw.assumingMemoryBound(to: Seq2SeqAttentionJob.self).pointee
            let units = job.everyHead ? job.count : job.count * job.headCount
            let scores = job.scores + thread * job.scoresStride
            for unit in (chunk * job.unitsPerChunk)..<min(units, (chunk + 1) * job.unitsPerChunk) {
                if job.everyHead {
                    let t = unit, row = job.rowSource(t)
                    Attention.attendEveryHead(query: job.query + t * job.width, keys: row.keys, values: row.values, stride: row.stride,
                                              headCount: job.headCount, headDim: job.headDim, visibility: row.visibility,
                                              scores: scores, scoresPerHead: job.scoresPerHead, out: job.output + t * job.width)
                    continue
                }
                let t = unit / job.headCount, h = unit % job.headCount
                let offset = h * job.headDim
                let q = job.query + t * job.width + offset
                let out = job.output + t * job.width + offset
                if job.kind == .gathered {
                    GatheredAttention.attend(
                        query: q, keys: job.keys + offset, values: job.values + offset, stride: job.kvStride, headDim: job.headDim,
                        slots: job.history! + t * job.historyStride, slotCount: Int(job.historyLengths![t]),
                        ownSlot: job.slots + t, scores: scores, out: out)
                    continue
                }
                let row = job.rowSource(t)
                Attention.attend(query: q, keys: row.keys + offset, values: row.values + offset, stride: row.stride,
                                 headDim: job.headDim, visibility: row.visibility, scores: scores, out: out)
            }
        }
    }
}

extension Seq2SeqAttentionJob {
    /// Where row t's keys and values start (every head; head h is h·headDim further) and
    /// which slots it sees. Not for `.gathered`, whose slots are listed per row.
    func rowSource(_ t: Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, visibility: Attention.Visibility) {
        switch kind {
        case .all, .gathered:
            return (keys, values, kvStride, .init(cached: 0..<slots, batchStart: slots, batchIndex: t, batchCount: 0, batchMask: nil))
        case .segments:
            let first = Int(segmentStarts![t]), length = Int(segmentLengths![t])
            return (keys + first * kvStride, values + first * kvStride, kvStride,
                    .init(cached: 0..<length, batchStart: length, batchIndex: t, batchCount: 0, batchMask: nil))
        case .sequence:
            return (keys, values, kvStride, .init(cached: 0..<slots, batchStart: slots, batchIndex: t, batchCount: count, batchMask: batchMask))
        case .eachSequence:
            // The same slots a one-sequence pass sees: the cached ones, then the new tokens
            // up to its own.
            let (g, i, n) = groups?.locate(t) ?? (t, 0, 1)
            let cache = caches![g]
            return (UnsafePointer(cache.keys(layer: layer)), UnsafePointer(cache.values(layer: layer)), cache.width,
                    .init(cached: 0..<cache.length, batchStart: cache.length, batchIndex: i, batchCount: n, batchMask: nil))
        case .eachSource:
            let memory = memories![groups.map { Int($0.groupOfRow[t]) } ?? t]
            return (UnsafePointer(memory.keys(layer: layer)), UnsafePointer(memory.values(layer: layer)), kvStride,
                    .init(cached: 0..<memory.length, batchStart: memory.length, batchIndex: t, batchCount: 0, batchMask: nil))
        }
    }
}

/// Attention of one head over an explicit list of cache slots plus the token's own slot
/// (beam search: a hypothesis's ancestors, wherever they sit in the shared cache).
enum GatheredAttention {
    static func attend(query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                       headDim: Int, slots: UnsafePointer<Int32>, slotCount: Int, ownSlot: Int,
                       scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(headDim).squareRoot()
        var maxScore = -Float.infinity
        for i in 0...slotCount {
            let slot = i < slotCount ? Int(slots[i]) : ownSlot
            let s = MatrixMultiply.dot(q, keys + slot * stride, headDim) * scale
            scores[i] = s
            maxScore = max(maxScore, s)
        }
        var sum: Float = 0
        for i in 0...slotCount { let e = expf(scores[i] - maxScore); scores[i] = e; sum += e }
        let inverse = 1 / sum
        for d in 0..<headDim { out[d] = 0 }
        for i in 0...slotCount {
            let slot = i < slotCount ? Int(slots[i]) : ownSlot
            Attention.accumulate(scores[i] * inverse, values + slot * stride, into: out, headDim)
        }
    }
}
