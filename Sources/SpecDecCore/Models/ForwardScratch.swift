/// Activations of one forward pass, sized once for a session's largest batch and carved
/// from its arena. Shapes: B = maxBatch, d = hidden size.
public struct ForwardScratch {
    public let maxBatch: Int
    public let x: UnsafeMutablePointer<Float>          // [B][d] residual stream
    public let normed: UnsafeMutablePointer<Float>     // [B][d]
    public let query: UnsafeMutablePointer<Float>      // [B][max(qDim, 3d)] (GPT-2: fused qkv)
    public let key: UnsafeMutablePointer<Float>        // [B][kvDim]
    public let value: UnsafeMutablePointer<Float>      // [B][kvDim]
    public let attention: UnsafeMutablePointer<Float>  // [B][qDim]
    public let hidden: UnsafeMutablePointer<Float>     // [B][ffn]
    public let hidden2: UnsafeMutablePointer<Float>    // [B][ffn]
    public let cos: UnsafeMutablePointer<Float>        // [B][headDim/2]
    public let sin: UnsafeMutablePointer<Float>        // [B][headDim/2]
    public let scores: UnsafeMutablePointer<Float>     // [threads][capacity + B]
    public let scoresStride: Int
    public let queryStride: Int

    static func sizes(_ c: ModelConfig, maxBatch b: Int, threads: Int, capacity: Int) -> [Int] {
        let queryWidth = max(c.queryDim, 3 * c.hiddenSize)
        return [b * c.hiddenSize, b * c.hiddenSize, b * queryWidth, b * c.kvDim, b * c.kvDim, b * c.queryDim,
                b * c.intermediateSize, b * c.intermediateSize, b * c.headDim / 2, b * c.headDim / 2,
                threads * (capacity + b)]
    }

    public static func footprint(_ c: ModelConfig, maxBatch: Int, threads: Int, capacity: Int) -> Int {
        sizes(c, maxBatch: maxBatch, threads: threads, capacity: capacity).reduce(0) { $0 + Arena.footprint(Float.self, count: $1) }
    }

    public init(_ c: ModelConfig, maxBatch: Int, threads: Int, capacity: Int, arena: Arena) throws(SpecDecError) {
        let s = ForwardScratch.sizes(c, maxBatch: maxBatch, threads: threads, capacity: capacity)
        self.maxBatch = maxBatch
        x = try arena.allocate(Float.self, count: s[0])
        normed = try arena.allocate(Float.self, count: s[1])
        query = try arena.allocate(Float.self, count: s[2])
        key = try arena.allocate(Float.self, count: s[3])
        value = try arena.allocate(Float.self, count: s[4])
        attention = try arena.allocate(Float.self, count: s[5])
        hidden = try arena.allocate(Float.self, count: s[6])
        hidden2 = try arena.allocate(Float.self, count: s[7])
        cos = try arena.allocate(Float.self, count: s[8])
        sin = try arena.allocate(Float.self, count: s[9])
        scores = try arena.allocate(Float.self, count: s[10])
        scoresStride = capacity + maxBatch
        queryStride = max(c.queryDim, 3 * c.hiddenSize)
    }
}
