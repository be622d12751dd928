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

        // Token tables as transformers 5 loads them (TokenTableNames): a stored tensor serves its
        // own role even where config says tied; a missing one falls back within its tie group,
        // and untied roles have no fallback. A tensor stored again under
        // another name with the same bytes (older checkpoints repeat the shared table under each
        // side's name) is read once, as transformers ties equal tensors.
        let names = try TokenTableNames(sharedVocabulary: c.sharedEmbeddings, tied: c.tiedEmbeddings,
                                        directory: w.directory, isStored: w.contains)
        var tables: [(name: String, matrix: Matrix)] = []
        func alreadyRead(_ name: String, rows: Int) -> (name: String, matrix: Matrix)? {
            tables.first { ($0.name == name || w.storesSameBytes($0.name, name)) && $0.matrix.rows == rows }
        }
        func table(_ name: String, rows: Int) throws(SpecDecError) -> Matrix {
            if let read = alreadyRead(name, rows: rows) { return read.matrix }
            let m = try w.matrix(name, rows: rows, columns: d)
            tables.append((name, m))
            return m
        }
        let encoderTokens = try table(names.encoder, rows: c.sourceVocabSize)
        let decoderTokens = try table(names.decoder, rows: c.vocabSize)

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
        if let read = alreadyRead(names.output, rows: c.vocabSize) {
            output = try w.tiedLinear(read.name, embedding: read.matrix)
        } else {
            output = try w.linear(names.output, rows: c.vocabSize, columns: d)
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
