/// Loads an encoder-decoder model from a Hugging Face directory (MarianMTModel,
/// BartForConditionalGeneration, or a fairseq transformer converted by tools/convert_fairseq.py).
/// Decoder-only directories are refused with `.unsupported`, naming `ModelLoader`.
public enum EncoderDecoderLoader {
    public static func load(directory: String, useMmap: Bool = true) throws(SpecDecError) -> EncoderDecoderModel {
        try load(directory: directory, options: LoadOptions(useMmap: useMmap))
    }

    public static func load(directory: String, options: LoadOptions) throws(SpecDecError) -> EncoderDecoderModel {
        let config = try EncoderDecoderConfig.load(directory: directory)
        let weights = try WeightStore(directory: directory, options: options)
        return try build(config: config, weights: weights)
    }

    static func build(config c: EncoderDecoderConfig, weights w: WeightStore) throws(SpecDecError) -> EncoderDecoderModel {
        let d = c.hiddenSize
        // transformers saves MarianMTModel / BartForConditionalGeneration under "model."; the
        // bare MarianModel / BartModel without a prefix has no output layer and is not accepted.
        let p = "model."
        guard w.contains(p + "encoder.layers.0.fc1.weight") || w.contains(p + "shared.weight")
                || w.contains(p + "encoder.embed_tokens.weight") else {
            throw .shape("\(w.directory): no \(p)encoder.* tensors: not a \(c.modelType) sequence-to-sequence checkpoint")
        }

        // Token embeddings: one shared table, or one per side (Marian with separate vocabularies).
        // Checkpoints written by older transformers repeat the shared table under each side's name.
        let encoderTokens: Matrix, decoderTokens: Matrix
        let decoderTokensName: String
        if c.sharedEmbeddings {
            guard let name = w.firstPresent([p + "shared.weight", p + "encoder.embed_tokens.weight", p + "decoder.embed_tokens.weight"]) else {
                throw .shape("missing tensor \(p)shared.weight in \(w.directory)")
            }
            encoderTokens = try w.matrix(name, rows: c.sourceVocabSize, columns: d)
            decoderTokens = encoderTokens
            decoderTokensName = name
        } else {
            encoderTokens = try w.matrix(p + "encoder.embed_tokens.weight", rows: c.sourceVocabSize, columns: d)
            decoderTokens = try w.matrix(p + "decoder.embed_tokens.weight", rows: c.vocabSize, columns: d)
            decoderTokensName = p + "decoder.embed_tokens.weight"
        }

        var owned: [UnsafeMutableBufferPointer<Float>] = []
        var success = false
        defer { if !success { for table in owned { table.deallocate() } } }
        func sinusoidal(rows: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> Matrix {
            let table = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * d)
            owned.append(table)
            fill(table.baseAddress!)
            return Matrix(pointer: UnsafePointer(table.baseAddress!), rows: rows, columns: d)
        }
        let encoderPositions: Matrix, decoderPositions: Matrix
        switch c.positionalEmbedding {
        case .marianSinusoidal:
            let rows = max(c.maxSourcePositions, c.contextLength)
            let table = sinusoidal(rows: rows) { SinusoidalTable.marian(rows: rows, dim: d, into: $0) }
            encoderPositions = table
            decoderPositions = table
        case .fairseqSinusoidal(let offset):
            guard d >= 4 else { throw .unsupported("fairseq sinusoidal positions need d_model >= 4") }
            let rows = max(c.maxSourcePositions, c.contextLength)
            let table = sinusoidal(rows: rows) { SinusoidalTable.fairseq(rows: rows, dim: d, offset: offset, into: $0) }
            encoderPositions = table
            decoderPositions = table
        case .learned(let offset):
            // BART's tables have max_position_embeddings + 2 rows; position p reads row p + 2.
            func learned(_ side: String, _ count: Int) throws(SpecDecError) -> Matrix {
                let full = try w.matrix(p + side + ".embed_positions.weight", rows: count + offset, columns: d)
                return Matrix(pointer: full.pointer + offset * d, rows: count, columns: d)
            }
            encoderPositions = try learned("encoder", c.maxSourcePositions)
            decoderPositions = try learned("decoder", c.contextLength)
        }

        let scale = c.embeddingScale
        let encoderNorm = c.embeddingLayerNorm ? try w.layerNorm(p + "encoder.layernorm_embedding", d) : nil
        let decoderNorm = c.embeddingLayerNorm ? try w.layerNorm(p + "decoder.layernorm_embedding", d) : nil

        var encoderLayers: [EncoderLayerWeights] = []
        for i in 0..<c.encoderLayerCount {
            let l = p + "encoder.layers.\(i)."
            encoderLayers.append(EncoderLayerWeights(
                selfAttention: try w.attention(l + "self_attn", d),
                selfAttentionNorm: try w.layerNorm(l + "self_attn_layer_norm", d),
                feedForward: try w.feedForward(layer: l, d, c.encoderFeedForwardSize),
                finalNorm: try w.layerNorm(l + "final_layer_norm", d)))
        }
        var decoderLayers: [DecoderLayerWeights] = []
        for i in 0..<c.decoderLayerCount {
            let l = p + "decoder.layers.\(i)."
            let cross: AttentionWeights
            let crossNorm: LayerNormWeights
            do {
                cross = try w.attention(l + "encoder_attn", d)
                crossNorm = try w.layerNorm(l + "encoder_attn_layer_norm", d)
            } catch {
                throw .init(error.kind, "cross-attention weights of decoder layer \(i): \(error.message)")
            }
            decoderLayers.append(DecoderLayerWeights(
                selfAttention: try w.attention(l + "self_attn", d),
                selfAttentionNorm: try w.layerNorm(l + "self_attn_layer_norm", d),
                crossAttention: cross,
                crossAttentionNorm: crossNorm,
                feedForward: try w.feedForward(layer: l, d, c.decoderFeedForwardSize),
                finalNorm: try w.layerNorm(l + "final_layer_norm", d)))
        }
        let extraLayer = p + "encoder.layers.\(c.encoderLayerCount).fc1.weight"
        if w.contains(extraLayer) { throw .shape("\(w.directory) holds more encoder layers than encoder_layers = \(c.encoderLayerCount)") }

        let output: LinearWeight
        if c.tiedEmbeddings {
            output = try w.tiedLinear(decoderTokensName, embedding: decoderTokens)
        } else {
            guard w.contains("lm_head.weight") else {
                throw .shape("missing tensor lm_head.weight in \(w.directory) (tie_word_embeddings is false)")
            }
            output = try w.linear("lm_head.weight", rows: c.vocabSize, columns: d)
        }
        // transformers keeps final_logits_bias as a buffer and treats a missing one as zeros.
        let bias = w.contains("final_logits_bias") ? try w.matrix("final_logits_bias", rows: 1, columns: c.vocabSize).pointer : nil

        let model = EncoderDecoderModel(
            config: c, weights: w,
            encoderEmbedding: EmbeddingStage(tokens: encoderTokens, positions: encoderPositions, scale: scale, norm: encoderNorm),
            decoderEmbedding: EmbeddingStage(tokens: decoderTokens, positions: decoderPositions, scale: scale, norm: decoderNorm),
            encoderLayers: encoderLayers, decoderLayers: decoderLayers, output: output, finalLogitsBias: bias, ownedTables: owned)
        success = true
        return model
    }
}
