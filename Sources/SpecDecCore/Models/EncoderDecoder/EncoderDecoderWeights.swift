/// The weights of one post-norm Transformer encoder-decoder (Marian, fairseq, BART), as
/// views into the WeightStore. d = d_model; shapes are [out, in] as stored.

struct LayerNormWeights {
    var weight: UnsafePointer<Float>     // [d]
    var bias: UnsafePointer<Float>       // [d]
}

struct AttentionWeights {
    var wq, wk, wv, wo: LinearWeight     // [d, d] each
    var bq, bk, bv, bo: UnsafePointer<Float>  // [d]
}

struct FeedForwardWeights {
    var w1: LinearWeight                 // fc1 [ffn, d]
    var b1: UnsafePointer<Float>
    var w2: LinearWeight                 // fc2 [d, ffn]
    var b2: UnsafePointer<Float>
}

struct EncoderLayerWeights {
    var selfAttention: AttentionWeights
    var selfAttentionNorm: LayerNormWeights
    var feedForward: FeedForwardWeights
    var finalNorm: LayerNormWeights
}

struct DecoderLayerWeights {
    var selfAttention: AttentionWeights
    var selfAttentionNorm: LayerNormWeights
    var crossAttention: AttentionWeights // encoder_attn: q from the decoder, k/v from the encoder output
    var crossAttentionNorm: LayerNormWeights
    var feedForward: FeedForwardWeights
    var finalNorm: LayerNormWeights
}

/// token embedding · scale + position row (+ LayerNorm for BART).
struct EmbeddingStage {
    var tokens: Matrix                   // [vocab, d]
    var positions: Matrix                // [max positions, d]: row p is position p
    var scale: Float
    var norm: LayerNormWeights?

    /// out[t] = tokens[ids[t]] · scale + positions[pos[t]] (pos[t] = t when `positions` is nil).
    func embed(_ ids: UnsafePointer<Int32>, positions pos: UnsafePointer<Int32>?, count n: Int,
               epsilon: Float, out: UnsafeMutablePointer<Float>) {
        let d = tokens.columns
        for t in 0..<n {
            let e = tokens[Int(ids[t])], p = positions[pos.map { Int($0[t]) } ?? t]
            let x = out + t * d
            for i in 0..<d { x[i] = e[i] * scale + p[i] }
            if let norm { VectorOps.layerNorm(x, weight: norm.weight, bias: norm.bias, epsilon: epsilon, count: d, out: x) }
        }
    }
}

extension WeightStore {
    func layerNorm(_ prefix: String, _ d: Int) throws(SpecDecError) -> LayerNormWeights {
        LayerNormWeights(weight: try vector(prefix + ".weight", count: d).pointer, bias: try vector(prefix + ".bias", count: d).pointer)
    }

    func attention(_ prefix: String, _ d: Int) throws(SpecDecError) -> AttentionWeights {
        AttentionWeights(
            wq: try linear(prefix + ".q_proj.weight", rows: d, columns: d),
            wk: try linear(prefix + ".k_proj.weight", rows: d, columns: d),
            wv: try linear(prefix + ".v_proj.weight", rows: d, columns: d),
            wo: try linear(prefix + ".out_proj.weight", rows: d, columns: d),
            bq: try vector(prefix + ".q_proj.bias", count: d).pointer,
            bk: try vector(prefix + ".k_proj.bias", count: d).pointer,
            bv: try vector(prefix + ".v_proj.bias", count: d).pointer,
            bo: try vector(prefix + ".out_proj.bias", count: d).pointer)
    }

    /// fc1 and fc2 of a layer; `layer` ends with "." ("model.encoder.layers.0.").
    func feedForward(layer: String, _ d: Int, _ f: Int) throws(SpecDecError) -> FeedForwardWeights {
        FeedForwardWeights(
            w1: try linear(layer + "fc1.weight", rows: f, columns: d), b1: try vector(layer + "fc1.bias", count: f).pointer,
            w2: try linear(layer + "fc2.weight", rows: d, columns: f), b2: try vector(layer + "fc2.bias", count: d).pointer)
    }
}
