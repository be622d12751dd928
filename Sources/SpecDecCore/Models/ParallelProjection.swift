/// One projection of a forward pass: y = x · Wᵀ (+ bias).
public struct Projection {
    public var weight: LinearWeight
    public var bias: UnsafePointer<Float>?
    public var output: UnsafeMutablePointer<Float>
    public var outputStride: Int

    public init(_ weight: Matrix, bias: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        self.init(LinearWeight(matrix: weight), bias: bias, output: output, outputStride: outputStride)
    }

    public init(_ weight: LinearWeight, bias: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        self.weight = weight
        self.bias = bias
        self.output = output
        self.outputStride = outputStride
    }
}

/// Up to three projections of the same input, split into row blocks for the pool.
private struct ProjectionJob {
    var x: UnsafePointer<Float>
    var xStride: Int
    var tokens: Int
    var projections: (Projection, Projection?, Projection?)
    /// The input converted once for compact weights (nil for fp32 weights).
    var prepared: MatrixMultiply.PreparedActivations?
    var rowsPerChunk: Int
    var chunks: (Int, Int, Int)
}

/// Attention over every (new token, head) pair of one layer.
private struct AttentionJob {
    var query: UnsafePointer<Float>
    var queryStride: Int
    var keys: UnsafePointer<Float>
    var values: UnsafePointer<Float>
    var cacheWidth: Int
    var cachedSlots: Int
    var slotPositions: UnsafePointer<Int32>
    var tokenPositions: UnsafePointer<Int32>
    var count: Int
    var headCount: Int
    var groups: Int
    var headDim: Int
    var queryDim: Int
    var slidingWindow: Int   // 0 = none
    var batchMask: UnsafePointer<UInt8>?
    var scores: UnsafeMutablePointer<Float>
    var scoresStride: Int
    var output: UnsafeMutablePointer<Float>
    var pairsPerChunk: Int
    /// One row per sequence: row t's cache (nil: every row is in the cache above).
    var caches: UnsafePointer<KVCache>?
    var layer: Int
}

extension ThreadPool {
    /// Below this many multiply-adds a projection runs on the calling thread: waking
    /// workers costs more than it saves.
    static let parallelWorkThreshold = 1 << 16

    /// Runs up to three projections of the same input in one dispatch (q/k/v, gate/up).
    public func project(x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                        _ a: Projection, _ b: Projection? = nil, _ c: Projection? = nil) {
        // One conversion of x serves every projection only if they share a layout.
        func compatible(_ p: Projection?) -> Bool {
            p.map { $0.weight.layout == a.weight.layout && $0.weight.paddedColumns == a.weight.paddedColumns } ?? true
        }
        guard compatible(b), compatible(c) else {
            for p in [a, b, c].compactMap({ $0 }) { project(x: x, xStride: xStride, tokens: tokens, p) }
            return
        }
        let prepared = a.weight.matrix == nil
            ? MatrixMultiply.prepare(a.weight, x: x, xStride: xStride, tokens: tokens, scratch: activations) : nil
        let rows = a.weight.rows + (b?.weight.rows ?? 0) + (c?.weight.rows ?? 0)
        let work = rows * a.weight.columns * tokens
        let rowsPerChunk = work < ThreadPool.parallelWorkThreshold
            ? max(a.weight.rows, b?.weight.rows ?? 0, c?.weight.rows ?? 0)
            : max(16, (a.weight.rows / (threadCount * 4) + 15) / 16 * 16)
        func chunks(_ p: Projection?) -> Int { p.map { ($0.weight.rows + rowsPerChunk - 1) / rowsPerChunk } ?? 0 }
        let job = ProjectionJob(x: x, xStride: xStride, tokens: tokens, projections: (a, b, c), prepared: prepared,
                                rowsPerChunk: rowsPerChunk, chunks: (chunks(a), chunks(b), chunks(c)))
        run(chunks: job.chunks.0 + job.chunks.1 + job.chunks.2, context: job) { raw, chunk, _ in
            let job = raw.assumingMemoryBound(to: ProjectionJob.self).pointee
            var index = chunk
            let p: Projection
            if index < job.chunks.0 {
                p = job.projections.0
            } else if index < job.chunks.0 + job.chunks.1 {
                p = job.projections.1!
                index -= job.chunks.0
            } else {
                p = job.projections.2!
                index -= job.chunks.0 + job.chunks.1
            }
            let start = index * job.rowsPerChunk
            let end = min(p.weight.rows, start + job.rowsPerChunk)
            if let prepared = job.prepared {
                MatrixMultiply.multiplyPrepared(p.weight, bias: p.bias, prepared, y: p.output, yStride: p.outputStride, rows: start..<end)
            } else {
                MatrixMultiply.multiply(p.weight.matrix!, bias: p.bias, x: job.x, xStride: job.xStride, tokens: job.tokens,
                                        y: p.output, yStride: p.outputStride, rows: start..<end)
            }
        }
    }

    /// Attention for every (new token, head) pair, with keys and values from the cache(s):
    /// every row in caches[0] (one sequence), or row t in caches[t] (one row per sequence).
    func attendAll(query: UnsafePointer<Float>, queryStride: Int, caches: UnsafePointer<KVCache>, binding: DecoderRowBinding,
                   layer: Int, count: Int, config c: ModelConfig, scratch: ForwardScratch, batchMask: UnsafePointer<UInt8>?,
                   slidingWindow: Int?, positions: UnsafePointer<Int32>) {
        precondition(binding.groups == nil, "decoder-only models run no pass of grouped rows")
        let pairs = count * c.headCount
        let cache = caches[0]
        var visited = count * (cache.length + count)
        if binding.isPerSequence {
            visited = 0
            for t in 0..<count { visited += caches[t].length + 1 }
        }
        let small = visited * c.queryDim < ThreadPool.parallelWorkThreshold
        let job = AttentionJob(
            query: query, queryStride: queryStride,
            keys: cache.keys(layer: layer), values: cache.values(layer: layer), cacheWidth: cache.width,
            cachedSlots: cache.length, slotPositions: cache.positions, tokenPositions: positions, count: count,
            headCount: c.headCount, groups: c.headCount / c.kvHeadCount, headDim: c.headDim, queryDim: c.queryDim,
            slidingWindow: slidingWindow ?? 0, batchMask: batchMask,
            scores: scratch.scores, scoresStride: scratch.scoresStride, output: scratch.attention,
            pairsPerChunk: small ? pairs : 1, caches: binding.isPerSequence ? UnsafePointer(caches) : nil, layer: layer)
        run(chunks: small ? 1 : pairs, context: job) { raw, chunk, thread in
            let job = raw.assumingMemoryBound(to: AttentionJob.self).pointee
            let pairs = job.count * job.headCount
            let pairsInChunk = (chunk * job.pairsPerChunk)..<min(pairs, (chunk + 1) * job.pairsPerChunk)
            for pair in pairsInChunk {
                let t = pair / job.headCount, h = pair % job.headCount
                // A row of a batched step sees its own cache and itself, as a one-token pass would.
                let own = job.caches.map { $0[t] }
                let keys = own.map { UnsafePointer($0.keys(layer: job.layer)) } ?? job.keys
                let values = own.map { UnsafePointer($0.values(layer: job.layer)) } ?? job.values
                let cachedSlots = own?.length ?? job.cachedSlots
                let slotPositions = own.map { UnsafePointer($0.positions) } ?? job.slotPositions
                var firstCached = 0
                if job.slidingWindow > 0 {
                    // Mistral's window: a token sees the `window` latest positions, itself included.
                    let oldest = Int(job.tokenPositions[t]) - job.slidingWindow
                    while firstCached < cachedSlots && Int(slotPositions[firstCached]) <= oldest { firstCached += 1 }
                }
                let kvOffset = (h / job.groups) * job.headDim
                Attention.attend(
                    query: job.query + t * job.queryStride + h * job.headDim,
                    keys: keys + kvOffset, values: values + kvOffset, stride: job.cacheWidth, headDim: job.headDim,
                    visibility: .init(cached: firstCached..<cachedSlots, batchStart: cachedSlots, batchIndex: own == nil ? t : 0,
                                      batchCount: own == nil ? job.count : 1, batchMask: job.batchMask),
                    scores: job.scores + thread * job.scoresStride,
                    out: job.output + t * job.queryDim + h * job.headDim)
            }
        }
    }
}
