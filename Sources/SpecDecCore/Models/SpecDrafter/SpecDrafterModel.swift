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

    /// The encoded source: token embeddings e and e + positions, [S][d], and every decoder
    /// layer's cross-attention keys and values (fixed for the request), in one allocation
    /// made when the sequence starts.
    public final class EncodedSource {
        public let length: Int
        private let hiddenSize: Int
        private let storage: UnsafeMutablePointer<Float>

        init(length: Int, hiddenSize: Int, decoderLayers: Int) {
            self.length = length
            self.hiddenSize = hiddenSize
            storage = .allocate(capacity: (2 + 2 * decoderLayers) * length * hiddenSize)
        }

        deinit { storage.deallocate() }

        private func part(_ i: Int) -> UnsafeMutablePointer<Float> { storage + i * length * hiddenSize }
        var embeddings: UnsafeMutablePointer<Float> { part(0) }
        var embeddingsWithPositions: UnsafeMutablePointer<Float> { part(1) }
        func crossKeys(_ layer: Int) -> UnsafeMutablePointer<Float> { part(2 + 2 * layer) }
        func crossValues(_ layer: Int) -> UnsafeMutablePointer<Float> { part(3 + 2 * layer) }
    }

    /// - pool: threads for the projections (nil: the calling thread alone).
    public func encode(_ source: [Int32], pool: ThreadPool? = nil) throws(SpecDecError) -> EncodedSource {
        try encode(source, pool: pool, workspace: SpecDrafterWorkspace(config: config))
    }

    /// Encodes `source` with `workspace`'s activations.
    public func encode(_ source: [Int32], pool: ThreadPool?, workspace: SpecDrafterWorkspace) throws(SpecDecError) -> EncodedSource {
        let c = config, d = c.hiddenSize, n = source.count
        guard n >= 1 else { throw .invalidArgument("the drafter needs a source of at least one token") }
        guard n <= c.maxPositions else {
            throw .init(.capacity, "the source has \(n) tokens but the drafter has \(c.maxPositions) positions")
        }
        if let bad = source.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw .init(.tokenOutOfRange, "source token \(bad) is outside the drafter's vocabulary [0, \(c.vocabSize))")
        }
        try workspace.reserve(rows: n, slots: 0)
        let encoded = EncodedSource(length: n, hiddenSize: d, decoderLayers: decoderLayers.count)
        let x = workspace.buffers.x, e = encoded.embeddings
        for j in 0..<n {
            let row = embedding[Int(source[j])], pos = encoderPositions[j + c.positionOffset]
            for i in 0..<d { e[j * d + i] = row[i]; x[j * d + i] = row[i] + pos[i] }
        }
        encoded.embeddingsWithPositions.update(from: x, count: n * d)
        workspace.segments.removeAll(keepingCapacity: true)
        workspace.segments.append(0..<n)
        for layer in encoderLayers {
            selfAttention(x, rows: n, layer.attention, heads: c.encoderHeadCount, workspace: workspace, pool: pool)
            normalize(x, rows: n, layer.norm1)
            feedForward(x, rows: n, layer.ffn, width: c.encoderFeedForwardSize, workspace: workspace, pool: pool)
            normalize(x, rows: n, layer.norm2)
        }
        for (l, layer) in decoderLayers.enumerated() {
            projectPair(x, rows: n, layer.cross.wk, layer.cross.bk, into: encoded.crossKeys(l), layer.cross.wv, layer.cross.bv,
                        into: encoded.crossValues(l), workspace: workspace, pool: pool)
        }
        return encoded
    }

    /// Logits of the k mask slots after `prefix` ([k][V], row-major).
    public func draftLogits(_ source: EncodedSource, prefix: [Int32], k: Int, pool: ThreadPool? = nil) throws(SpecDecError) -> [Float] {
        try prefix.withUnsafeBufferPointer { (p) throws(SpecDecError) in
            try draftLogits([DraftRequest(source: source, prefix: p)], k: k, pool: pool)
        }
    }

    /// `draftLogits(_:k:pool:workspace:)` with a workspace of its own, the logits copied out.
    public func draftLogits(_ requests: [DraftRequest], k: Int, pool: ThreadPool? = nil) throws(SpecDecError) -> [Float] {
        let workspace = try SpecDrafterWorkspace(config: config)
        let logits = try draftLogits(requests, k: k, pool: pool, workspace: workspace)
        return Array(UnsafeBufferPointer(start: logits, count: requests.count * k * config.vocabSize))
    }

    /// One sequence of a batched drafting pass: its encoded source and verified prefix
    /// (read during the call only).
    public struct DraftRequest {
        public var source: EncodedSource
        public var prefix: UnsafeBufferPointer<Int32>

        public init(source: EncodedSource, prefix: UnsafeBufferPointer<Int32>) {
            self.source = source
            self.prefix = prefix
        }
    }

    /// Drafts for several sequences in one decoder pass: their rows (prefix, then k mask
    /// slots) are stacked, so every projection runs once over all of them, while attention
    /// stays inside each sequence and reads its own source. Returns [requests.count · k][V]
    /// in `workspace` (valid until its next pass): request i's slots are rows i·k ..< (i + 1)·k,
    /// each computed exactly as drafting for that request alone computes it (the kernels sum
    /// a row the same way whatever the row count).
    public func draftLogits(_ requests: [DraftRequest], k: Int, pool: ThreadPool?,
                            workspace: SpecDrafterWorkspace) throws(SpecDecError) -> UnsafePointer<Float> {
        let c = config, d = c.hiddenSize
        guard k >= 1 else { throw .invalidArgument("the drafter needs at least one slot") }
        // Index loops throughout: an unoptimised build allocates for a for-in over an array,
        // and a drafting round allocates nothing.
        var rows = 0
        for r in requests.indices {
            let request = requests[r]
            let t = request.prefix.count + k
            guard t <= c.maxPositions else {
                throw .init(.capacity, "prefix (\(request.prefix.count)) plus \(k) slots exceed the drafter's \(c.maxPositions) positions")
            }
            for i in 0..<request.prefix.count where request.prefix[i] < 0 || Int(request.prefix[i]) >= c.vocabSize {
                throw .init(.tokenOutOfRange, "token \(request.prefix[i]) is outside the drafter's vocabulary [0, \(c.vocabSize))")
            }
            rows += t
        }
        try workspace.reserve(rows: rows, slots: requests.count * k)
        workspace.segments.removeAll(keepingCapacity: true)
        var start = 0
        for r in requests.indices {
            workspace.segments.append(start..<(start + requests[r].prefix.count + k))
            start += requests[r].prefix.count + k
        }
        // The input: prefix embeddings, then the soft copy of the source embeddings for the
        // mask slots.
        let y = workspace.buffers.x, scores = workspace.buffers.scores
        for r in requests.indices {
            let request = requests[r], segment = workspace.segments[r], source = request.source
            for i in 0..<segment.count {
                let out = y + (segment.lowerBound + i) * d
                if i < request.prefix.count {
                    out.update(from: embedding[Int(request.prefix[i])], count: d)
                    continue
                }
                for s in 0..<source.length {
                    var dot: Float = 0
                    for j in 0..<d { dot += copyQueries[i * d + j] * source.embeddingsWithPositions[s * d + j] }
                    scores[s] = dot
                }
                VectorOps.softmax(scores, count: source.length)
                out.update(repeating: 0, count: d)
                for s in 0..<source.length {
                    let weight = scores[s]
                    for j in 0..<d { out[j] += weight * source.embeddings[s * d + j] }
                }
            }
        }
        for l in decoderLayers.indices {
            let layer = decoderLayers[l]
            // Positions r_t are added before every layer.
            for r in requests.indices {
                let segment = workspace.segments[r]
                for i in 0..<segment.count {
                    let row = y + (segment.lowerBound + i) * d, position = decoderPositions[i + c.positionOffset]
                    for j in 0..<d { row[j] += position[j] }
                }
            }
            selfAttention(y, rows: rows, layer.selfAttention, heads: c.decoderHeadCount, workspace: workspace, pool: pool)
            normalize(y, rows: rows, layer.norm1)
            workspace.clearAttention()
            for r in requests.indices {
                let source = requests[r].source
                workspace.attend(keys: source.crossKeys(l), values: source.crossValues(l), count: source.length)
            }
            crossAttention(y, rows: rows, layer.cross, heads: c.decoderHeadCount, workspace: workspace, pool: pool)
            normalize(y, rows: rows, layer.norm2)
            feedForward(y, rows: rows, layer.ffn, width: c.decoderFeedForwardSize, workspace: workspace, pool: pool)
            normalize(y, rows: rows, layer.norm3)
        }
        let slots = workspace.buffers.slots
        for r in requests.indices {
            (slots + r * k * d).update(from: y + (workspace.segments[r].upperBound - k) * d, count: k * d)
        }
        let logits = workspace.buffers.logits
        project(slots, rows: requests.count * k, outputProjection, bias: nil, into: logits, workspace: workspace, pool: pool)
        return UnsafePointer(logits)
    }

    // MARK: - Layers

    /// y = x · Wᵀ + b for `rows` rows of x.
    private func project(_ x: UnsafePointer<Float>, rows: Int, _ w: LinearWeight, bias: Matrix?, into y: UnsafeMutablePointer<Float>,
                         workspace: SpecDrafterWorkspace, pool: ThreadPool?) {
        if let pool {
            pool.project(x: x, xStride: w.columns, tokens: rows, Projection(w, bias: bias?.pointer, output: y, outputStride: w.rows))
        } else {
            MatrixMultiply.multiply(w, bias: bias?.pointer, x: x, xStride: w.columns, tokens: rows, y: y, yStride: w.rows,
                                    rows: 0..<w.rows, scratch: workspace.scratch)
        }
    }

    /// Two projections of the same x (keys and values) in one dispatch.
    private func projectPair(_ x: UnsafePointer<Float>, rows: Int, _ w1: LinearWeight, _ b1: Matrix, into y1: UnsafeMutablePointer<Float>,
                             _ w2: LinearWeight, _ b2: Matrix, into y2: UnsafeMutablePointer<Float>,
                             workspace: SpecDrafterWorkspace, pool: ThreadPool?) {
        guard let pool else {
            project(x, rows: rows, w1, bias: b1, into: y1, workspace: workspace, pool: nil)
            project(x, rows: rows, w2, bias: b2, into: y2, workspace: workspace, pool: nil)
            return
        }
        pool.project(x: x, xStride: w1.columns, tokens: rows,
                     Projection(w1, bias: b1.pointer, output: y1, outputStride: w1.rows),
                     Projection(w2, bias: b2.pointer, output: y2, outputStride: w2.rows))
    }

    /// Bidirectional attention of every query row of each of `workspace.segments` over the
    /// keys its sequence attends to (`workspace.attentionKeys`: self-attention, the same
    /// rows; cross-attention, its source), into `workspace.buffers.mixed`.
    private func attend(queries q: UnsafePointer<Float>, heads: Int, workspace: SpecDrafterWorkspace) {
        let d = config.hiddenSize, hd = d / heads
        let out = workspace.buffers.mixed, scores = workspace.buffers.scores
        for i in workspace.segments.indices {
            let segment = workspace.segments[i], keyCount = workspace.keyCounts[i]
            let k = workspace.attentionKeys[i], v = workspace.attentionValues[i]
            for t in segment {
                for h in 0..<heads {
                    // Every key is visible: bidirectional attention.
                    SpecDecCore.Attention.attend(
                        query: q + t * d + h * hd, keys: k + h * hd, values: v + h * hd, stride: d, headDim: hd,
                        visibility: .init(cached: 0..<keyCount, batchStart: 0, batchIndex: 0, batchCount: 0, batchMask: nil),
                        scores: scores, out: out + t * d + h * hd)
                }
            }
        }
    }

    private func selfAttention(_ x: UnsafeMutablePointer<Float>, rows: Int, _ a: Attention, heads: Int,
                               workspace: SpecDrafterWorkspace, pool: ThreadPool?) {
        let d = config.hiddenSize, b = workspace.buffers
        project(x, rows: rows, a.wq, bias: a.bq, into: b.q, workspace: workspace, pool: pool)
        projectPair(x, rows: rows, a.wk, a.bk, into: b.k, a.wv, a.bv, into: b.v, workspace: workspace, pool: pool)
        workspace.clearAttention()
        for i in workspace.segments.indices {
            let segment = workspace.segments[i]
            workspace.attend(keys: b.k + segment.lowerBound * d, values: b.v + segment.lowerBound * d, count: segment.count)
        }
        attend(queries: b.q, heads: heads, workspace: workspace)
        addProjection(to: x, rows: rows, a, workspace: workspace, pool: pool)
    }

    /// Attention over each segment's source (set in `workspace`'s attention lists).
    private func crossAttention(_ x: UnsafeMutablePointer<Float>, rows: Int, _ a: Attention, heads: Int,
                                workspace: SpecDrafterWorkspace, pool: ThreadPool?) {
        let b = workspace.buffers
        project(x, rows: rows, a.wq, bias: a.bq, into: b.q, workspace: workspace, pool: pool)
        attend(queries: b.q, heads: heads, workspace: workspace)
        addProjection(to: x, rows: rows, a, workspace: workspace, pool: pool)
    }

    /// x += the attention output (`workspace.buffers.mixed`) · W_oᵀ + b_o (the residual).
    private func addProjection(to x: UnsafeMutablePointer<Float>, rows: Int, _ a: Attention, workspace: SpecDrafterWorkspace,
                               pool: ThreadPool?) {
        let out = workspace.buffers.out
        project(workspace.buffers.mixed, rows: rows, a.wo, bias: a.bo, into: out, workspace: workspace, pool: pool)
        for i in 0..<(rows * config.hiddenSize) { x[i] += out[i] }
    }

    private func normalize(_ x: UnsafeMutablePointer<Float>, rows: Int, _ n: Norm) {
        let d = config.hiddenSize
        for t in 0..<rows {
            let row = x + t * d
            VectorOps.layerNorm(row, weight: n.weight.pointer, bias: n.bias.pointer, epsilon: config.normEpsilon, count: d, out: row)
        }
    }

    private func feedForward(_ x: UnsafeMutablePointer<Float>, rows: Int, _ f: FeedForward, width: Int,
                             workspace: SpecDrafterWorkspace, pool: ThreadPool?) {
        let hidden = workspace.buffers.hidden, out = workspace.buffers.out
        project(x, rows: rows, f.up, bias: f.upBias, into: hidden, workspace: workspace, pool: pool)
        for i in 0..<(rows * width) { let v = hidden[i]; hidden[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
        project(hidden, rows: rows, f.down, bias: f.downBias, into: out, workspace: workspace, pool: pool)
        for i in 0..<(rows * config.hiddenSize) { x[i] += out[i] }
    }
}
