/// Llama, Mistral and Qwen2: pre-norm decoder blocks with RMSNorm, rotary positions,
/// grouped-query attention and a SwiGLU feed-forward.
public final class LlamaModel: DecoderModel, @unchecked Sendable {
    struct Layer {
        var attentionNorm: Matrix            // [d]
        var wq, wk, wv, wo: LinearWeight           // [qDim, d], [kvDim, d], [kvDim, d], [d, qDim]
        var bq, bk, bv, bo: UnsafePointer<Float>?
        var feedForwardNorm: Matrix          // [d]
        var wGate, wUp, wDown: LinearWeight        // [ffn, d], [ffn, d], [d, ffn]
        var bGate, bUp, bDown: UnsafePointer<Float>?
    }

    public let config: ModelConfig
    public let weights: WeightStore
    let embedding: Matrix                    // [vocab, d]
    let layers: [Layer]
    let finalNorm: Matrix                    // [d]
    let output: LinearWeight                 // [vocab, d] (the embedding when tied)
    let rotary: RotaryEmbedding
    public var parameterCount: Int { weights.parameterCount }

    init(config c: ModelConfig, weights w: WeightStore) throws(SpecDecError) {
        config = c
        weights = w
        let d = c.hiddenSize
        embedding = try w.matrix("model.embed_tokens.weight", rows: c.vocabSize, columns: d)
        var layers: [Layer] = []
        for i in 0..<c.layerCount {
            let p = "model.layers.\(i)."
            func bias(_ name: String, _ n: Int, _ present: Bool) throws(SpecDecError) -> UnsafePointer<Float>? {
                present ? try w.vector(p + name, count: n).pointer : nil
            }
            layers.append(Layer(
                attentionNorm: try w.vector(p + "input_layernorm.weight", count: d),
                wq: try w.linear(p + "self_attn.q_proj.weight", rows: c.queryDim, columns: d),
                wk: try w.linear(p + "self_attn.k_proj.weight", rows: c.kvDim, columns: d),
                wv: try w.linear(p + "self_attn.v_proj.weight", rows: c.kvDim, columns: d),
                wo: try w.linear(p + "self_attn.o_proj.weight", rows: d, columns: c.queryDim),
                bq: try bias("self_attn.q_proj.bias", c.queryDim, c.attentionBias),
                bk: try bias("self_attn.k_proj.bias", c.kvDim, c.attentionBias),
                bv: try bias("self_attn.v_proj.bias", c.kvDim, c.attentionBias),
                bo: try bias("self_attn.o_proj.bias", d, c.outputProjectionBias),
                feedForwardNorm: try w.vector(p + "post_attention_layernorm.weight", count: d),
                wGate: try w.linear(p + "mlp.gate_proj.weight", rows: c.intermediateSize, columns: d),
                wUp: try w.linear(p + "mlp.up_proj.weight", rows: c.intermediateSize, columns: d),
                wDown: try w.linear(p + "mlp.down_proj.weight", rows: d, columns: c.intermediateSize),
                bGate: try bias("mlp.gate_proj.bias", c.intermediateSize, c.mlpBias),
                bUp: try bias("mlp.up_proj.bias", c.intermediateSize, c.mlpBias),
                bDown: try bias("mlp.down_proj.bias", d, c.mlpBias)))
        }
        self.layers = layers
        finalNorm = try w.vector("model.norm.weight", count: d)
        if c.tiedEmbeddings || !w.contains("lm_head.weight") {
            guard c.tiedEmbeddings else { throw .shape("missing tensor lm_head.weight in \(w.directory) (tie_word_embeddings is false)") }
            output = try w.tiedLinear("model.embed_tokens.weight", embedding: embedding)
        } else {
            output = try w.linear("lm_head.weight", rows: c.vocabSize, columns: d)
        }
        rotary = RotaryEmbedding(headDim: c.headDim, theta: c.ropeTheta)
    }

    public func forward(
        tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int,
        cache: inout KVCache, scratch s: ForwardScratch, pool: ThreadPool,
        logits: UnsafeMutablePointer<Float>?, rows: LogitRows, batchMask: UnsafePointer<UInt8>?
    ) {
        withUnsafeMutablePointer(to: &cache) { caches in
            forwardRows(tokens: tokens, positions: positions, count: n, caches: caches, binding: .oneSequence, scratch: s,
                        pool: pool, logits: logits, rows: rows, batchMask: batchMask)
        }
    }

    public func forwardEachSequence(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int,
                                    caches: UnsafeMutablePointer<KVCache>, scratch s: ForwardScratch, pool: ThreadPool,
                                    logits: UnsafeMutablePointer<Float>) {
        forwardRows(tokens: tokens, positions: positions, count: n, caches: caches, binding: .onePerSequence, scratch: s,
                    pool: pool, logits: logits, rows: .all, batchMask: nil)
    }

    private func forwardRows(
        tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int,
        caches: UnsafeMutablePointer<KVCache>, binding: DecoderRowBinding, scratch s: ForwardScratch, pool: ThreadPool,
        logits: UnsafeMutablePointer<Float>?, rows: LogitRows, batchMask: UnsafePointer<UInt8>?
    ) {
        let c = config
        let d = c.hiddenSize, half = c.headDim / 2
        for t in 0..<n {
            (s.x + t * d).update(from: embedding[Int(tokens[t])], count: d)
            rotary.angles(position: Int(positions[t]), cos: s.cos + t * half, sin: s.sin + t * half)
        }
        binding.stage(tokens: tokens, positions: positions, count: n, caches: caches)
        for l in 0..<layers.count {
            let layer = layers[l]
            for t in 0..<n {
                VectorOps.rmsNorm(s.x + t * d, weight: layer.attentionNorm.pointer, epsilon: c.normEpsilon, count: d, out: s.normed + t * d)
            }
            // One sequence: keys and values go straight into its cache slots; one row per
            // sequence: into scratch rows, rotated, then each into its own cache.
            let (keySlots, valueSlots, kvStride) = binding.keyValueDestination(caches: caches, layer: l, keys: s.key,
                                                                               values: s.value, stride: c.kvDim)
            pool.project(x: s.normed, xStride: d, tokens: n,
                         Projection(layer.wq, bias: layer.bq, output: s.query, outputStride: c.queryDim),
                         Projection(layer.wk, bias: layer.bk, output: keySlots, outputStride: kvStride),
                         Projection(layer.wv, bias: layer.bv, output: valueSlots, outputStride: kvStride))
            for t in 0..<n {
                rotary.rotate(s.query + t * c.queryDim, heads: c.headCount, cos: s.cos + t * half, sin: s.sin + t * half)
                rotary.rotate(keySlots + t * kvStride, heads: c.kvHeadCount, cos: s.cos + t * half, sin: s.sin + t * half)
            }
            binding.scatterKeyValues(caches: caches, layer: l, count: n, keys: s.key, values: s.value, stride: c.kvDim)
            pool.attendAll(query: s.query, queryStride: c.queryDim, caches: caches, binding: binding, layer: l, count: n, config: c,
                           scratch: s, batchMask: batchMask, slidingWindow: c.slidingWindow, positions: positions)
            pool.project(x: s.attention, xStride: c.queryDim, tokens: n,
                         Projection(layer.wo, bias: layer.bo, output: s.normed, outputStride: d))
            for t in 0..<n { VectorOps.add(s.x + t * d, s.normed + t * d, count: d) }

            for t in 0..<n {
                VectorOps.rmsNorm(s.x + t * d, weight: layer.feedForwardNorm.pointer, epsilon: c.normEpsilon, count: d, out: s.normed + t * d)
            }
            let f = c.intermediateSize
            pool.project(x: s.normed, xStride: d, tokens: n,
                         Projection(layer.wGate, bias: layer.bGate, output: s.hidden, outputStride: f),
                         Projection(layer.wUp, bias: layer.bUp, output: s.hidden2, outputStride: f))
            for t in 0..<n { VectorOps.swiGLU(gate: s.hidden + t * f, up: s.hidden2 + t * f, count: f) }
            pool.project(x: s.hidden, xStride: f, tokens: n,
                         Projection(layer.wDown, bias: layer.bDown, output: s.normed, outputStride: d))
            for t in 0..<n { VectorOps.add(s.x + t * d, s.normed + t * d, count: d) }
        }
        binding.commit(count: n, caches: caches)
        guard let logits else { return }
        let first = rows == .all ? 0 : n - 1
        for t in first..<n {
            VectorOps.rmsNorm(s.x + t * d, weight: finalNorm.pointer, epsilon: c.normEpsilon, count: d, out: s.normed + t * d)
        }
        pool.project(x: s.normed + first * d, xStride: d, tokens: n - first,
                     Projection(output, output: logits, outputStride: c.vocabSize))
    }
}
