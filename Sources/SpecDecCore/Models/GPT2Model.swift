/// GPT-2: pre-norm blocks with LayerNorm, learned absolute positions, a fused q/k/v
/// projection and a GELU (tanh) feed-forward. Checkpoints store Conv1D weights as
/// [in, out]; they are transposed once at load.
public final class GPT2Model: DecoderModel, @unchecked Sendable {
    struct Layer {
        var norm1Weight, norm1Bias: Matrix   // [d]
        var wQKV: LinearWeight                     // [3d, d]
        var bQKV: Matrix                     // [3d]
        var wProj: LinearWeight                    // [d, d]
        var bProj: Matrix
        var norm2Weight, norm2Bias: Matrix
        var wUp: LinearWeight                      // [ffn, d]
        var bUp: Matrix
        var wDown: LinearWeight                    // [d, ffn]
        var bDown: Matrix
    }

    public let config: ModelConfig
    public let weights: WeightStore
    let tokenEmbedding: Matrix               // [vocab, d]
    let positionEmbedding: Matrix            // [context, d]
    let layers: [Layer]
    let finalNormWeight, finalNormBias: Matrix
    let output: LinearWeight
    public var parameterCount: Int { weights.parameterCount }

    init(config c: ModelConfig, weights w: WeightStore) throws(SpecDecError) {
        config = c
        weights = w
        let d = c.hiddenSize, f = c.intermediateSize
        let prefix = w.contains("transformer.wte.weight") ? "transformer." : ""
        tokenEmbedding = try w.matrix(prefix + "wte.weight", rows: c.vocabSize, columns: d)
        positionEmbedding = try w.matrix(prefix + "wpe.weight", rows: c.contextLength, columns: d)
        var layers: [Layer] = []
        for i in 0..<c.layerCount {
            let p = prefix + "h.\(i)."
            layers.append(Layer(
                norm1Weight: try w.vector(p + "ln_1.weight", count: d), norm1Bias: try w.vector(p + "ln_1.bias", count: d),
                wQKV: try w.linear(p + "attn.c_attn.weight", rows: 3 * d, columns: d, transposed: true),
                bQKV: try w.vector(p + "attn.c_attn.bias", count: 3 * d),
                wProj: try w.linear(p + "attn.c_proj.weight", rows: d, columns: d, transposed: true),
                bProj: try w.vector(p + "attn.c_proj.bias", count: d),
                norm2Weight: try w.vector(p + "ln_2.weight", count: d), norm2Bias: try w.vector(p + "ln_2.bias", count: d),
                wUp: try w.linear(p + "mlp.c_fc.weight", rows: f, columns: d, transposed: true),
                bUp: try w.vector(p + "mlp.c_fc.bias", count: f),
                wDown: try w.linear(p + "mlp.c_proj.weight", rows: d, columns: f, transposed: true),
                bDown: try w.vector(p + "mlp.c_proj.bias", count: d)))
        }
        self.layers = layers
        finalNormWeight = try w.vector(prefix + "ln_f.weight", count: d)
        finalNormBias = try w.vector(prefix + "ln_f.bias", count: d)
        if !c.tiedEmbeddings, w.contains("lm_head.weight") {
            output = try w.linear("lm_head.weight", rows: c.vocabSize, columns: d)
        } else {
            output = try w.tiedLinear(prefix + "wte.weight", embedding: tokenEmbedding)
        }
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
        let d = c.hiddenSize, f = c.intermediateSize, qkv = 3 * d
        for t in 0..<n {
            let x = s.x + t * d
            let tokenRow = tokenEmbedding[Int(tokens[t])], positionRow = positionEmbedding[Int(positions[t])]
            for i in 0..<d { x[i] = tokenRow[i] + positionRow[i] }
        }
        binding.stage(tokens: tokens, positions: positions, count: n, caches: caches)
        for l in 0..<layers.count {
            let layer = layers[l]
            for t in 0..<n {
                VectorOps.layerNorm(s.x + t * d, weight: layer.norm1Weight.pointer, bias: layer.norm1Bias.pointer,
                                    epsilon: c.normEpsilon, count: d, out: s.normed + t * d)
            }
            pool.project(x: s.normed, xStride: d, tokens: n,
                         Projection(layer.wQKV, bias: layer.bQKV.pointer, output: s.query, outputStride: qkv))
            let (keySlots, valueSlots, kvStride) = binding.keyValueDestination(caches: caches, layer: l, keys: s.key,
                                                                               values: s.value, stride: d)
            for t in 0..<n {
                (keySlots + t * kvStride).update(from: s.query + t * qkv + d, count: d)
                (valueSlots + t * kvStride).update(from: s.query + t * qkv + 2 * d, count: d)
            }
            binding.scatterKeyValues(caches: caches, layer: l, count: n, keys: s.key, values: s.value, stride: d)
            pool.attendAll(query: s.query, queryStride: qkv, caches: caches, binding: binding, layer: l, count: n, config: c,
                           scratch: s, batchMask: batchMask, slidingWindow: nil, positions: positions)
            pool.project(x: s.attention, xStride: d, tokens: n,
                         Projection(layer.wProj, bias: layer.bProj.pointer, output: s.normed, outputStride: d))
            for t in 0..<n { VectorOps.add(s.x + t * d, s.normed + t * d, count: d) }

            for t in 0..<n {
                VectorOps.layerNorm(s.x + t * d, weight: layer.norm2Weight.pointer, bias: layer.norm2Bias.pointer,
                                    epsilon: c.normEpsilon, count: d, out: s.normed + t * d)
            }
            pool.project(x: s.normed, xStride: d, tokens: n,
                         Projection(layer.wUp, bias: layer.bUp.pointer, output: s.hidden, outputStride: f))
            for t in 0..<n { VectorOps.geluTanh(s.hidden + t * f, count: f) }
            pool.project(x: s.hidden, xStride: f, tokens: n,
                         Projection(layer.wDown, bias: layer.bDown.pointer, output: s.normed, outputStride: d))
            for t in 0..<n { VectorOps.add(s.x + t * d, s.normed + t * d, count: d) }
        }
        binding.commit(count: n, caches: caches)
        guard let logits else { return }
        let first = rows == .all ? 0 : n - 1
        for t in first..<n {
            VectorOps.layerNorm(s.x + t * d, weight: finalNormWeight.pointer, bias: finalNormBias.pointer,
                                epsilon: c.normEpsilon, count: d, out: s.normed + t * d)
        }
        pool.project(x: s.normed + first * d, xStride: d, tokens: n - first,
                     Projection(output, output: logits, outputStride: c.vocabSize))
    }
}
