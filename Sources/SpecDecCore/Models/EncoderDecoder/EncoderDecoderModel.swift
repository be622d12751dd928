/// The keys and values every decoder layer's cross-attention reads: the encoder output
/// projected once per source by each layer's encoder_attn.k_proj / v_proj.
struct CrossAttentionMemory {
    let encoderOutput: UnsafeMutablePointer<Float> // [capacity][d] the encoder's last hidden states
    let keys: UnsafeMutablePointer<Float>      // [decoder layers][capacity][d]
    let values: UnsafeMutablePointer<Float>
    let capacity: Int                          // source slots per layer
    let width: Int                             // d
    var length = 0                             // source tokens held

    func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * width }
    func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * width }
}

/// One source of an encoder pass and the memory its cross-attention keys and values go to.
struct EncoderSegment {
    let source: UnsafeBufferPointer<Int32>
    let memory: UnsafeMutablePointer<CrossAttentionMemory>
}

/// A post-norm Transformer encoder-decoder: MarianMTModel (and fairseq transformers converted
/// to its layout) and BartForConditionalGeneration. Immutable after loading and shared by
/// sessions; every buffer a pass writes belongs to the session.
///
/// Encoder layer:  x = LN(x + SelfAttn(x));  x = LN(x + fc2(act(fc1(x))))
/// Decoder layer:  y = LN(y + CausalSelfAttn(y));  y = LN(y + CrossAttn(y, enc));  y = LN(y + FFN(y))
/// Logits:         y · W_outᵀ + final_logits_bias
public final class EncoderDecoderModel: @unchecked Sendable {
    public let config: EncoderDecoderConfig
    public let weights: WeightStore
    let encoderEmbedding: EmbeddingStage
    let decoderEmbedding: EmbeddingStage
    let encoderLayers: [EncoderLayerWeights]
    let decoderLayers: [DecoderLayerWeights]
    let output: LinearWeight                   // [vocab, d]: lm_head, or the decoder embedding when tied
    let finalLogitsBias: UnsafePointer<Float>? // [vocab] (absent = zeros)
    private let ownedTables: [UnsafeMutableBufferPointer<Float>]
    public var parameterCount: Int { weights.parameterCount }

    init(config: EncoderDecoderConfig, weights: WeightStore, encoderEmbedding: EmbeddingStage, decoderEmbedding: EmbeddingStage,
         encoderLayers: [EncoderLayerWeights], decoderLayers: [DecoderLayerWeights], output: LinearWeight,
         finalLogitsBias: UnsafePointer<Float>?, ownedTables: [UnsafeMutableBufferPointer<Float>]) {
        self.config = config
        self.weights = weights
        self.encoderEmbedding = encoderEmbedding
        self.decoderEmbedding = decoderEmbedding
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.output = output
        self.finalLogitsBias = finalLogitsBias
        self.ownedTables = ownedTables
    }

    deinit { for table in ownedTables { table.deallocate() } }

    /// x[t] = LN(x[t] + s[t]) for t < n.
    @inline(__always)
    private func addAndNormalize(_ s: Seq2SeqScratch, _ norm: LayerNormWeights, count n: Int) {
        let d = config.hiddenSize
        for t in 0..<n {
            let x = s.x + t * d
            VectorOps.add(x, s.sublayer + t * d, count: d)
            VectorOps.layerNorm(x, weight: norm.weight, bias: norm.bias, epsilon: config.normEpsilon, count: d, out: x)
        }
    }

    /// x = LN(x + fc2(act(fc1(x)))) for n rows.
    private func feedForward(_ w: FeedForwardWeights, _ norm: LayerNormWeights, width f: Int, count n: Int,
                             scratch s: Seq2SeqScratch, pool: ThreadPool) {
        let d = config.hiddenSize
        pool.project(x: s.x, xStride: d, tokens: n, Projection(w.w1, bias: w.b1, output: s.hidden, outputStride: f))
        for t in 0..<n { config.activation.apply(s.hidden + t * f, count: f) }
        pool.project(x: s.hidden, xStride: f, tokens: n, Projection(w.w2, bias: w.b2, output: s.sublayer, outputStride: d))
        addAndNormalize(s, norm, count: n)
    }

    /// Runs the encoder over `source` (count <= scratch rows, <= maxSourcePositions) and writes
    /// its output and every decoder layer's cross-attention keys and values into `memory`.
    func encode(source: UnsafePointer<Int32>, count n: Int, scratch s: Seq2SeqScratch, pool: ThreadPool,
                memory: inout CrossAttentionMemory) {
        withUnsafeMutablePointer(to: &memory) { memory in
            encode([EncoderSegment(source: UnsafeBufferPointer(start: source, count: n), memory: memory)], scratch: s, pool: pool)
        }
    }

    /// Runs the encoder over several sources in one pass, their rows one after another (at
    /// most scratch rows in all): the projections see every row, attention stays inside
    /// each source, so each memory gets exactly what encoding its source alone gives.
    func encode(_ segments: [EncoderSegment], scratch s: Seq2SeqScratch, pool: ThreadPool) {
        let c = config
        let d = c.hiddenSize
        var n = 0
        for segment in segments {
            let count = segment.source.count
            encoderEmbedding.embed(segment.source.baseAddress!, positions: nil, count: count, epsilon: c.normEpsilon, out: s.x + n * d)
            for t in n..<(n + count) {
                s.segmentStarts[t] = Int32(n)
                s.segmentLengths[t] = Int32(count)
            }
            n += count
        }
        for l in 0..<encoderLayers.count {
            let layer = encoderLayers[l]
            let a = layer.selfAttention
            pool.project(x: s.x, xStride: d, tokens: n,
                         Projection(a.wq, bias: a.bq, output: s.query, outputStride: d),
                         Projection(a.wk, bias: a.bk, output: s.key, outputStride: d),
                         Projection(a.wv, bias: a.bv, output: s.value, outputStride: d))
            pool.attendWithinSegments(query: s.query, keys: s.key, values: s.value, count: n,
                                      headCount: c.encoderHeadCount, scratch: s, output: s.attention)
            pool.project(x: s.attention, xStride: d, tokens: n, Projection(a.wo, bias: a.bo, output: s.sublayer, outputStride: d))
            addAndNormalize(s, layer.selfAttentionNorm, count: n)
            feedForward(layer.feedForward, layer.finalNorm, width: c.encoderFeedForwardSize, count: n, scratch: s, pool: pool)
        }
        var row = 0
        for segment in segments {
            segment.memory.pointee.encoderOutput.update(from: s.x + row * d, count: segment.source.count * d)
            row += segment.source.count
        }
        for l in 0..<decoderLayers.count {
            let a = decoderLayers[l].crossAttention
            pool.project(x: s.x, xStride: d, tokens: n,
                         Projection(a.wk, bias: a.bk, output: s.key, outputStride: d),
                         Projection(a.wv, bias: a.bv, output: s.value, outputStride: d))
            row = 0
            for segment in segments {
                let memory = segment.memory.pointee, count = segment.source.count
                memory.keys(layer: l).update(from: s.key + row * d, count: count * d)
                memory.values(layer: l).update(from: s.value + row * d, count: count * d)
                row += count
            }
        }
        for segment in segments { segment.memory.pointee.length = segment.source.count }
    }

    /// Runs `count` decoder tokens. Their self-attention keys and values are written to `cache`
    /// slots cache.length ..< cache.length + count and committed.
    /// - logits: `count` rows (`.all`) or the last row (`.last`) of vocabSize floats, or nil.
    func decode(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int,
                cache: inout KVCache, memory: CrossAttentionMemory, selfAttention mode: DecoderSelfAttention,
                scratch s: Seq2SeqScratch, pool: ThreadPool, logits: UnsafeMutablePointer<Float>?, rows: LogitRows) {
        withUnsafeMutablePointer(to: &cache) { caches in
            withUnsafePointer(to: memory) { memories in
                decodeRows(tokens: tokens, positions: positions, count: n, caches: caches, memories: memories,
                           binding: .oneSequence, mode: mode, scratch: s, pool: pool, logits: logits, rows: rows)
            }
        }
    }

    /// Runs one next token for each of `count` sequences: token t goes into caches[t] after
    /// what it holds and attends to memories[t] (its own source). Row t's logits are
    /// computed exactly as a one-sequence pass would compute them.
    func decodeEachSequence(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int,
                            caches: UnsafeMutablePointer<KVCache>, memories: UnsafePointer<CrossAttentionMemory>,
                            scratch s: Seq2SeqScratch, pool: ThreadPool, logits: UnsafeMutablePointer<Float>) {
        decodeRows(tokens: tokens, positions: positions, count: n, caches: caches, memories: memories,
                   binding: .onePerSequence, mode: .sequence(batchMask: nil), scratch: s, pool: pool, logits: logits, rows: .all)
    }

    /// Runs the rows of several sequences in one pass: group g's rows are new tokens of
    /// caches[g] (causal among themselves, after what the cache holds) attending to
    /// memories[g]. Each row's logits are computed exactly as a one-sequence pass of that
    /// group's tokens would compute them (speculative decoding verifies every draft at once).
    func decodeSequenceGroups(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int, groups: SequenceRowGroups,
                              caches: UnsafeMutablePointer<KVCache>, memories: UnsafePointer<CrossAttentionMemory>,
                              scratch s: Seq2SeqScratch, pool: ThreadPool, logits: UnsafeMutablePointer<Float>) {
        decodeRows(tokens: tokens, positions: positions, count: n, caches: caches, memories: memories,
                   binding: .sequenceGroups(groups), mode: .sequence(batchMask: nil), scratch: s, pool: pool, logits: logits, rows: .all)
    }

    /// The decoder layers over `count` rows; `binding` says whose cache and source each row uses.
    private func decodeRows(tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count n: Int,
                            caches: UnsafeMutablePointer<KVCache>, memories: UnsafePointer<CrossAttentionMemory>,
                            binding: DecoderRowBinding, mode: DecoderSelfAttention, scratch s: Seq2SeqScratch, pool: ThreadPool,
                            logits: UnsafeMutablePointer<Float>?, rows: LogitRows) {
        let c = config
        let d = c.hiddenSize
        decoderEmbedding.embed(tokens, positions: positions, count: n, epsilon: c.normEpsilon, out: s.x)
        binding.stage(tokens: tokens, positions: positions, count: n, caches: caches)
        for l in 0..<decoderLayers.count {
            let layer = decoderLayers[l]
            let a = layer.selfAttention
            // One sequence: keys and values go straight into its cache slots; one row per
            // sequence: into scratch, then each row into its own cache.
            let (keySlots, valueSlots, kvStride) = binding.keyValueDestination(caches: caches, layer: l, keys: s.key, values: s.value, stride: d)
            pool.project(x: s.x, xStride: d, tokens: n,
                         Projection(a.wq, bias: a.bq, output: s.query, outputStride: d),
                         Projection(a.wk, bias: a.bk, output: keySlots, outputStride: kvStride),
                         Projection(a.wv, bias: a.bv, output: valueSlots, outputStride: kvStride))
            binding.scatterKeyValues(caches: caches, layer: l, count: n, keys: s.key, values: s.value, stride: d)
            switch binding {
            case .oneSequence:
                pool.attendDecoder(query: s.query, cache: caches[0], layer: l, count: n, headCount: c.decoderHeadCount,
                                   mode: mode, scratch: s, output: s.attention)
            case .onePerSequence, .sequenceGroups:
                pool.attendEachSequence(query: s.query, caches: caches, groups: binding.groups, layer: l, count: n,
                                        headCount: c.decoderHeadCount, scratch: s, output: s.attention)
            }
            pool.project(x: s.attention, xStride: d, tokens: n, Projection(a.wo, bias: a.bo, output: s.sublayer, outputStride: d))
            addAndNormalize(s, layer.selfAttentionNorm, count: n)

            let cross = layer.crossAttention
            pool.project(x: s.x, xStride: d, tokens: n, Projection(cross.wq, bias: cross.bq, output: s.query, outputStride: d))
            switch binding {
            case .oneSequence:
                let memory = memories[0]
                pool.attendEverySlot(query: s.query, keys: memory.keys(layer: l), values: memory.values(layer: l), kvStride: d,
                                     slots: memory.length, count: n, headCount: c.decoderHeadCount, scratch: s, output: s.attention)
            case .onePerSequence, .sequenceGroups:
                pool.attendEachSource(query: s.query, memories: memories, groups: binding.groups, layer: l, count: n,
                                      headCount: c.decoderHeadCount, scratch: s, output: s.attention)
            }
            pool.project(x: s.attention, xStride: d, tokens: n, Projection(cross.wo, bias: cross.bo, output: s.sublayer, outputStride: d))
            addAndNormalize(s, layer.crossAttentionNorm, count: n)

            feedForward(layer.feedForward, layer.finalNorm, width: c.decoderFeedForwardSize, count: n, scratch: s, pool: pool)
        }
        binding.commit(count: n, caches: caches)
        guard let logits else { return }
        let first = rows == .all ? 0 : n - 1
        pool.project(x: s.x + first * d, xStride: d, tokens: n - first,
                     Projection(output, bias: finalLogitsBias, output: logits, outputStride: c.vocabSize))
    }
}
