/// One projection of a forward pass: y = x · Wᵀ (+ bias).
public struct Projection {
    public var weight: Matrix
    public var bias: UnsafePointer<Float>?
    public var output: UnsafeMutablePointer<Float>
    public var outputStride: Int

    public init(_ weight: Matrix, bias: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        self.weight = weight
        self.bias = bias
        self.output = output
        self.outputStride = outputStride
    }
}

extension ThreadPool {
    /// Runs up to three projections of the same input in one dispatch (q/k/v, gate/up),
    /// splitting every weight matrix into row blocks shared out among the threads.
    public func project(x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                        _ a: Projection, _ b: Projection? = nil, _ c: Projection? = nil) {
        let rowsPerChunk = max(16, (a.weight.rows / (threadCount * 4) + 15) / 16 * 16)
        let chunksA = (a.weight.rows + rowsPerChunk - 1) / rowsPerChunk
        let chunksB = b.map { ($0.weight.rows + rowsPerChunk - 1) / rowsPerChunk } ?? 0
        let chunksC = c.map { ($0.weight.rows + rowsPerChunk - 1) / rowsPerChunk } ?? 0
        run(chunks: chunksA + chunksB + chunksC) { chunk, _ in
            let p: Projection
            var index = chunk
            if index < chunksA { p = a } else if index < chunksA + chunksB { p = b!; index -= chunksA } else { p = c!; index -= chunksA + chunksB }
            let start = index * rowsPerChunk
            let end = min(p.weight.rows, start + rowsPerChunk)
            MatrixMultiply.multiply(p.weight, bias: p.bias, x: x, xStride: xStride, tokens: tokens,
                                    y: p.output, yStride: p.outputStride, rows: start..<end)
        }
    }

    /// Attention for every (new token, head) pair, with keys and values from the cache.
    func attendAll(query: UnsafePointer<Float>, queryStride: Int, cache: KVCache, layer: Int, count: Int,
                   config c: ModelConfig, scratch: ForwardScratch, batchMask: UnsafePointer<UInt8>?,
                   slidingWindow: Int?, positions: UnsafePointer<Int32>) {
        let start = cache.length
        let groups = c.headCount / c.kvHeadCount
        let keys = cache.keys(layer: layer), values = cache.values(layer: layer)
        run(chunks: count * c.headCount) { chunk, thread in
            let t = chunk / c.headCount, h = chunk % c.headCount
            var cached = 0..<start
            if let window = slidingWindow {
                // Mistral's window: a token sees the `window` latest positions, itself included.
                let oldest = Int(positions[t]) - window
                var first = 0
                while first < start && Int(cache.positions[first]) <= oldest { first += 1 }
                cached = first..<start
            }
            let kvOffset = (h / groups) * c.headDim
            Attention.attend(
                query: query + t * queryStride + h * c.headDim,
                keys: keys + kvOffset, values: values + kvOffset, stride: cache.width, headDim: c.headDim,
                visibility: .init(cached: cached, batchStart: start, batchIndex: t, batchCount: count, batchMask: batchMask),
                scores: scratch.scores + thread * scratch.scoresStride,
                out: scratch.attention + t * c.queryDim + h * c.headDim)
        }
    }
}
