#if canImport(Glibc)
import Glibc
#endif

/// SpecDec's Spec-Drafter (Xia et al.; the authors' BlockNAT): a non-autoregressive
/// encoder-decoder that fills k mask slots after the verified prefix in one pass.
/// Post-norm layers, learned positions (row = index + 2) added before every decoder
/// layer, no embedding scaling, bidirectional decoder self-attention, exact GELU, a soft
/// copy of the source embeddings as the mask slots' input, and the output projection tied
/// to the token embeddings. See training/README.md for the tensor names.
public final class SpecDrafterModel: @unchecked Sendable {
    struct Attention {
        var wq, wk, wv, wo: LinearWeight
        var bq, bk, bv, bo: Matrix
    }
    struct Norm { var weight, bias: Matrix }
    struct FeedForward { var up, down: LinearWeight; var upBias, downBias: Matrix }
    struct EncoderLayer { var attention: Attention; var norm1: Norm; var ffn: FeedForward; var norm2: Norm }
    struct DecoderLayer { var selfAttention: Attention; var norm1: Norm; var cross: Attention; var norm2: Norm; var ffn: FeedForward; var norm3: Norm }

    public let config: SpecDrafterConfig
    public let weights: WeightStore
    let embedding: Matrix         // [V, d]
    let outputProjection: LinearWeight  // the embedding, tied, in the load's precision
    let encoderPositions: Matrix  // [P+2, d]
    let decoderPositions: Matrix  // [P+2, d]
    let copyProjection: Matrix    // [d, d]
    /// W_copy · r_t for every decoder position t ([P][d]): the soft copy's queries depend
    /// on the position only, so they are computed once at load.
    let copyQueries: [Float]
    let encoderLayers: [EncoderLayer]
    let decoderLayers: [DecoderLayer]

    public convenience init(directory: String) throws(SpecDecError) {
        try self.init(directory: directory, options: LoadOptions())
    }

    public init(directory: String, options: LoadOptions) throws(SpecDecError) {
        let c = try SpecDrafterConfig.load(directory: directory)
        config = c
        let w = try WeightStore(directory: directory, options: options)
        weights = w
        let d = c.hiddenSize
        embedding = try w.matrix("embed_tokens.weight", rows: c.vocabSize, columns: d)
        outputProjection = try w.tiedLinear("embed_tokens.weight", embedding: embedding)
        encoderPositions = try w.matrix("encoder.embed_positions.weight", rows: c.maxPositions + 2, columns: d)
        let positions = try w.matrix("decoder.embed_positions.weight", rows: c.maxPositions + 2, columns: d)
        decoderPositions = positions
        let copy = try w.matrix("decoder.copy_attn.weight", rows: d, columns: d)
        copyProjection = copy
        func attention(_ p: String) throws(SpecDecError) -> Attention {
            Attention(wq: try w.linear(p + "q_proj.weight", rows: d, columns: d), wk: try w.linear(p + "k_proj.weight", rows: d, columns: d),
                      wv: try w.linear(p + "v_proj.weight", rows: d, columns: d), wo: try w.linear(p + "out_proj.weight", rows: d, columns: d),
                      bq: try w.vector(p + "q_proj.bias", count: d), bk: try w.vector(p + "k_proj.bias", count: d),
                      bv: try w.vector(p + "v_proj.bias", count: d), bo: try w.vector(p + "out_proj.bias", count: d))
        }
        func norm(_ p: String) throws(SpecDecError) -> Norm {
            Norm(weight: try w.vector(p + ".weight", count: d), bias: try w.vector(p + ".bias", count: d))
        }
        func ffn(_ p: String, _ f: Int) throws(SpecDecError) -> FeedForward {
            FeedForward(up: try w.linear(p + "fc1.weight", rows: f, columns: d), down: try w.linear(p + "fc2.weight", rows: d, columns: f),
                        upBias: try w.vector(p + "fc1.bias", count: f), downBias: try w.vector(p + "fc2.bias", count: d))
        }
        var encoder: [EncoderLayer] = []
        for l in 0..<c.encoderLayerCount {
            let p = "encoder.layers.\(l)."
            encoder.append(EncoderLayer(attention: try attention(p + "self_attn."), norm1: try norm(p + "self_attn_layer_norm"),
                                        ffn: try ffn(p, c.encoderFeedForwardSize), norm2: try norm(p + "final_layer_norm")))
        }
        var decoder: [DecoderLayer] = []
        for l in 0..<c.decoderLayerCount {
            let p = "decoder.layers.\(l)."
            decoder.append(DecoderLayer(selfAttention: try attention(p + "self_attn."), norm1: try norm(p + "self_attn_layer_norm"),
                                        cross: try attention(p + "encoder_attn."), norm2: try norm(p + "encoder_attn_layer_norm"),
                                        ffn: try ffn(p, c.decoderFeedForwardSize), norm3: try norm(p + "final_layer_norm")))
        }
        encoderLayers = encoder
        decoderLayers = decoder
        var queries = [Float](repeating: 0, count: c.maxPositions * d)
        queries.withUnsafeMutableBufferPointer { q in
            MatrixMultiply.multiply(copy, bias: nil, x: positions[c.positionOffset], xStride: d,
                                    tokens: c.maxPositions, y: q.baseAddress!, yStride: d, rows: 0..<d)
        }
        copyQueries = queries
    }

    /// The encoded source: encoder output H, token embeddings e and e + positions, [S][d],
    /// and every decoder layer's cross-attention keys and values (fixed for the request).
    public struct EncodedSource {
        public var length: Int
        var output: [Float]
        var embeddings: [Float]
        var embeddingsWithPositions: [Float]
        var crossKeys: [[Float]]
        var crossValues: [[Float]]
    }

    /// - pool: threads for the projections (nil: the calling thread alone).
    public func encode(_ source: [Int32], pool: ThreadPool? = nil) throws(SpecDecError) -> EncodedSource {
        let c = config, d = c.hiddenSize, n = source.count
        guard n >= 1 else { throw .invalidArgument("the drafter needs a source of at least one token") }
        guard n <= c.maxPositions else {
            throw .init(.capacity, "the source has \(n) tokens but the drafter has \(c.maxPositions) positions")
        }
        if let bad = source.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw .init(.tokenOutOfRange, "source token \(bad) is outside the drafter's vocabulary [0, \(c.vocabSize))")
        }
        var e = [Float](repeating: 0, count: n * d)
        var x = e
        for j in 0..<n {
            let row = embedding[Int(source[j])], pos = encoderPositions[j + c.positionOffset]
            for i in 0..<d { e[j * d + i] = row[i]; x[j * d + i] = row[i] + pos[i] }
        }
        let withPositions = x
        for layer in encoderLayers {
            selfAttention(&x, segments: [0..<n], layer.attention, heads: c.encoderHeadCount, pool: pool)
            normalize(&x, count: n, layer.norm1)
            feedForward(&x, count: n, layer.ffn, width: c.encoderFeedForwardSize, pool: pool)
            normalize(&x, count: n, layer.norm2)
        }
        var keys: [[Float]] = [], values: [[Float]] = []
        for layer in decoderLayers {
            var k = [Float](repeating: 0, count: n * d), v = k
            multiplyPair(x, count: n, layer.cross.wk, layer.cross.bk, into: &k, layer.cross.wv, layer.cross.bv, into: &v, pool: pool)
            keys.append(k)
            values.append(v)
        }
        return EncodedSource(length: n, output: x, embeddings: e, embeddingsWithPositions: withPositions,
                             crossKeys: keys, crossValues: values)
    }

    /// Logits of the k mask slots after `prefix` ([k][V], row-major).
    public func draftLogits(_ source: EncodedSource, prefix: [Int32], k: Int, pool: ThreadPool? = nil) throws(SpecDecError) -> [Float] {
        try draftLogits([DraftRequest(source: source, prefix: prefix)], k: k, pool: pool)
    }

    /// One sequence of a batched drafting pass: its encoded source and verified prefix.
    public struct DraftRequest {
        public var source: EncodedSource
        public var prefix: [Int32]

        public init(source: EncodedSource, prefix: [Int32]) {
            self.source = source
            self.prefix = prefix
        }
    }

    /// Drafts for several sequences in one decoder pass: their rows (prefix, then k mask
    /// slots) are stacked, so every projection runs once over all of them, while attention
    /// stays inside each sequence and reads its own source. Returns [requests.count · k][V]:
    /// request i's slots are rows i·k ..< (i + 1)·k, each computed exactly as drafting for
    /// that request alone computes it (the kernels sum a row the same way whatever the row count).
    public func draftLogits(_ requests: [DraftRequest], k: Int, pool: ThreadPool? = nil) throws(SpecDecError) -> [Float] {
        let c = config, d = c.hiddenSize
        guard k >= 1 else { throw .invalidArgument("the drafter needs at least one slot") }
        var segments: [Range<Int>] = []
        var rows = 0
        for request in requests {
            let t = request.prefix.count + k
            guard t <= c.maxPositions else {
                throw .init(.capacity, "prefix (\(request.prefix.count)) plus \(k) slots exceed the drafter's \(c.maxPositions) positions")
            }
            if let bad = request.prefix.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
                throw .init(.tokenOutOfRange, "token \(bad) is outside the drafter's vocabulary [0, \(c.vocabSize))")
            }
            segments.append(rows..<(rows + t))
            rows += t
        }
        // Positions r_t, and the input: prefix embeddings, then the soft copy of the source
        // embeddings for the mask slots.
        var r = [Float](repeating: 0, count: rows * d)
        var y = [Float](repeating: 0, count: rows * d)
        for (request, segment) in zip(requests, segments) {
            let source = request.source
            var scores = [Float](repeating: 0, count: source.length)
            for i in 0..<segment.count {
                let out = (segment.lowerBound + i) * d
                let position = decoderPositions[i + c.positionOffset]
                for j in 0..<d { r[out + j] = position[j] }
                if i < request.prefix.count {
                    let row = embedding[Int(request.prefix[i])]
                    for j in 0..<d { y[out + j] = row[j] }
                    continue
                }
                for s in 0..<source.length {
                    var dot: Float = 0
                    for j in 0..<d { dot += copyQueries[i * d + j] * source.embeddingsWithPositions[s * d + j] }
                    scores[s] = dot
                }
                scores.withUnsafeMutableBufferPointer { VectorOps.softmax($0.baseAddress!, count: source.length) }
                for s in 0..<source.length {
                    let weight = scores[s]
                    for j in 0..<d { y[out + j] += weight * source.embeddings[s * d + j] }
                }
            }
        }
        for (l, layer) in decoderLayers.enumerated() {
            for i in 0..<(rows * d) { y[i] += r[i] }
            selfAttention(&y, segments: segments, layer.selfAttention, heads: c.decoderHeadCount, pool: pool)
            normalize(&y, count: rows, layer.norm1)
            crossAttention(&y, segments: segments, sources: requests.map(\.source), layer: l, layer.cross,
                           heads: c.decoderHeadCount, pool: pool)
            normalize(&y, count: rows, layer.norm2)
            feedForward(&y, count: rows, layer.ffn, width: c.decoderFeedForwardSize, pool: pool)
            normalize(&y, count: rows, layer.norm3)
        }
        var slots = [Float](repeating: 0, count: requests.count * k * d)
        for (i, segment) in segments.enumerated() {
            let first = (segment.upperBound - k) * d
            for j in 0..<(k * d) { slots[i * k * d + j] = y[first + j] }
        }
        var logits = [Float](repeating: 0, count: requests.count * k * c.vocabSize)
        multiply(slots, count: requests.count * k, outputProjection, bias: nil, into: &logits, pool: pool)
        return logits
    }

    // MARK: - Layers

    /// y = x · Wᵀ + b for `count` rows of x.
    private func multiply(_ x: [Float], count: Int, _ w: LinearWeight, bias: Matrix?, into y: inout [Float], pool: ThreadPool?) {
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                if let pool {
                    pool.project(x: xb.baseAddress!, xStride: w.columns, tokens: count,
                                 Projection(w, bias: bias?.pointer, output: yb.baseAddress!, outputStride: w.rows))
                } else {
                    MatrixMultiply.multiply(w, bias: bias?.pointer, x: xb.baseAddress!, xStride: w.columns, tokens: count,
                                            y: yb.baseAddress!, yStride: w.rows, rows: 0..<w.rows, scratch: ActivationScratch())
                }
            }
        }
    }

    /// Two projections of the same x (keys and values) in one dispatch.
    private func multiplyPair(_ x: [Float], count: Int, _ w1: LinearWeight, _ b1: Matrix, into y1: inout [Float],
                              _ w2: LinearWeight, _ b2: Matrix, into y2: inout [Float], pool: ThreadPool?) {
        guard let pool else {
            multiply(x, count: count, w1, bias: b1, into: &y1, pool: nil)
            multiply(x, count: count, w2, bias: b2, into: &y2, pool: nil)
            return
        }
        x.withUnsafeBufferPointer { xb in
            y1.withUnsafeMutableBufferPointer { o1 in
                y2.withUnsafeMutableBufferPointer { o2 in
                    pool.project(x: xb.baseAddress!, xStride: w1.columns, tokens: count,
                                 Projection(w1, bias: b1.pointer, output: o1.baseAddress!, outputStride: w1.rows),
                                 Projection(w2, bias: b2.pointer, output: o2.baseAddress!, outputStride: w2.rows))
                }
            }
        }
    }

    /// Bidirectional attention of every query row of each segment over that segment's keys
    /// (self-attention: the same rows; cross-attention: keys[i] of segment i's source).
    private func attend(queries: [Float], segments: [Range<Int>], keys: (Int) -> UnsafePointer<Float>,
                        values: (Int) -> UnsafePointer<Float>, keyCounts: (Int) -> Int, heads: Int) -> [Float] {
        let d = config.hiddenSize, hd = d / heads
        var out = [Float](repeating: 0, count: queries.count)
        var scores = [Float](repeating: 0, count: segments.indices.map(keyCounts).max() ?? 0)
        queries.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                scores.withUnsafeMutableBufferPointer { s in
                    for (i, segment) in segments.enumerated() {
                        let k = keys(i), v = values(i), keyCount = keyCounts(i)
                        for t in segment {
                            for h in 0..<heads {
                                // Every key is visible: bidirectional attention.
                                SpecDecCore.Attention.attend(
                                    query: q.baseAddress! + t * d + h * hd, keys: k + h * hd, values: v + h * hd, stride: d, headDim: hd,
                                    visibility: .init(cached: 0..<keyCount, batchStart: 0, batchIndex: 0, batchCount: 0, batchMask: nil),
                                    scores: s.baseAddress!, out: o.baseAddress! + t * d + h * hd)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    private func selfAttention(_ x: inout [Float], segments: [Range<Int>], _ a: Attention, heads: Int, pool: ThreadPool?) {
        let d = config.hiddenSize, count = x.count / d
        var q = [Float](repeating: 0, count: count * d), k = q, v = q
        multiply(x, count: count, a.wq, bias: a.bq, into: &q, pool: pool)
        multiplyPair(x, count: count, a.wk, a.bk, into: &k, a.wv, a.bv, into: &v, pool: pool)
        let mixed = k.withUnsafeBufferPointer { kb in
            v.withUnsafeBufferPointer { vb in
                attend(queries: q, segments: segments, keys: { kb.baseAddress! + segments[$0].lowerBound * d },
                       values: { vb.baseAddress! + segments[$0].lowerBound * d }, keyCounts: { segments[$0].count }, heads: heads)
            }
        }
        addProjection(of: mixed, to: &x, count: count, a, pool: pool)
    }

    private func crossAttention(_ x: inout [Float], segments: [Range<Int>], sources: [EncodedSource], layer l: Int,
                                _ a: Attention, heads: Int, pool: ThreadPool?) {
        let count = x.count / config.hiddenSize
        var q = [Float](repeating: 0, count: x.count)
        multiply(x, count: count, a.wq, bias: a.bq, into: &q, pool: pool)
        let layerKeys = sources.map { $0.crossKeys[l] }, layerValues = sources.map { $0.crossValues[l] }
        let all = Array(sources.indices)
        let mixed = layerKeys.withElementBuffers(all) { keys in
            layerValues.withElementBuffers(all) { values in
                attend(queries: q, segments: segments, keys: { keys[$0].baseAddress! }, values: { values[$0].baseAddress! },
                       keyCounts: { sources[$0].length }, heads: heads)
            }
        }
        addProjection(of: mixed, to: &x, count: count, a, pool: pool)
    }

    /// x += attention output · W_oᵀ + b_o (the residual).
    private func addProjection(of mixed: [Float], to x: inout [Float], count: Int, _ a: Attention, pool: ThreadPool?) {
        var out = [Float](repeating: 0, count: count * config.hiddenSize)
        multiply(mixed, count: count, a.wo, bias: a.bo, into: &out, pool: pool)
        for i in 0..<x.count { x[i] += out[i] }
    }

    private func normalize(_ x: inout [Float], count: Int, _ n: Norm) {
        let d = config.hiddenSize
        x.withUnsafeMutableBufferPointer { b in
            for t in 0..<count {
                let row = b.baseAddress! + t * d
                VectorOps.layerNorm(row, weight: n.weight.pointer, bias: n.bias.pointer, epsilon: config.normEpsilon, count: d, out: row)
            }
        }
    }

    private func feedForward(_ x: inout [Float], count: Int, _ f: FeedForward, width: Int, pool: ThreadPool?) {
        var hidden = [Float](repeating: 0, count: count * width)
        multiply(x, count: count, f.up, bias: f.upBias, into: &hidden, pool: pool)
        for i in 0..<hidden.count { let v = hidden[i]; hidden[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
        var out = [Float](repeating: 0, count: count * config.hiddenSize)
        multiply(hidden, count: count, f.down, bias: f.downBias, into: &out, pool: pool)
        for i in 0..<x.count { x[i] += out[i] }
    }
}
