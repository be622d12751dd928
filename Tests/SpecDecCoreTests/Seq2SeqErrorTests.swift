import SpecDecCore
import Testing

/// Bad input to the encoder-decoder path: a status with the right kind, never a crash, and
/// the session still usable afterwards.
@Suite struct Seq2SeqErrorTests {
    let marian = Seq2SeqFixtures.directory("marian_f32")

    func kind(_ body: () throws -> Void) -> SpecDecError.Kind? {
        do { try body() } catch let error as SpecDecError { return error.kind } catch { return nil }
        return nil
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as SpecDecError { return error.message } catch { return "\(error)" }
        return ""
    }

    @Test func encoderDecoderModelThroughTheDecoderOnlyLoader() {
        for name in ["marian_f32", "bart_f32", "fairseq_f32"] {
            #expect(kind { _ = try ModelLoader.load(directory: Seq2SeqFixtures.directory(name)) } == .unsupported)
            #expect(message { _ = try ModelLoader.load(directory: Seq2SeqFixtures.directory(name)) }.contains("encoder-decoder"))
        }
    }

    @Test func decoderOnlyModelThroughTheEncoderDecoderLoader() throws {
        let llama = Fixtures.decoder("llama_f32")
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: llama) } == .unsupported)
        #expect(message { _ = try EncoderDecoderLoader.load(directory: llama) }.contains("not an encoder-decoder model"))
        #expect(try ModelFamily.detect(directory: llama) == .decoderOnly)
        #expect(kind { _ = try ModelFamily.detect(directory: "/nonexistent/model") } == .io)
    }

    @Test func unknownArchitecture() throws {
        let dir = TemporaryDirectory()
        dir.write("config.json", text: #"{"model_type": "t5", "is_encoder_decoder": true}"#)
        #expect(try ModelFamily.detect(directory: dir.path) == .encoderDecoder)
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .unsupported)
        #expect(message { _ = try EncoderDecoderLoader.load(directory: dir.path) }.contains("unknown encoder-decoder architecture"))
        dir.write("config.json", text: #"{"model_type": "phi"}"#)
        #expect(try ModelFamily.detect(directory: dir.path) == .decoderOnly)
        dir.write("config.json", text: #"{"architectures": []}"#)
        #expect(kind { _ = try ModelFamily.detect(directory: dir.path) } == .format)
    }

    @Test func sourceTooLongOrOutOfRange() throws {
        let model = try EncoderDecoderLoader.load(directory: marian)
        let session = try Seq2SeqSession(model: model, sourceCapacity: 16, capacity: 32, threads: 1)
        let limit = model.config.maxSourcePositions
        #expect(kind { try session.setSource([Int32](repeating: 5, count: 17)) } == .capacity)
        let full = try Seq2SeqSession(model: model, capacity: 32, threads: 1)
        #expect(kind { try full.setSource([Int32](repeating: 5, count: limit + 1)) } == .capacity)
        #expect(kind { try session.setSource([5, 6, Int32(model.config.sourceVocabSize)]) } == .tokenOutOfRange)
        #expect(kind { try session.setSource([5, -1]) } == .tokenOutOfRange)
        #expect(kind { try session.setSource([]) } == .invalidArgument)
        #expect(kind { _ = try session.generate(source: [Int32](repeating: 5, count: 17), options: GenerationOptions()) } == .capacity)
        #expect(kind { _ = try session.beamSearch(source: [Int32](repeating: 5, count: 17), options: BeamSearchOptions()) } == .capacity)
        #expect(kind { _ = try Seq2SeqSession(model: model, sourceCapacity: limit + 1) } == .capacity)
        #expect(kind { _ = try Seq2SeqSession(model: model, capacity: model.config.contextLength + 1) } == .capacity)
        // Still usable.
        #expect(try session.greedy([5, 6, 7, 0], count: 3).count == 3)
    }

    @Test func decoderMisuse() throws {
        let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: marian), sourceCapacity: 16, capacity: 8, threads: 1)
        #expect(kind { _ = try session.logitRows([1]) } == .invalidArgument)  // no source yet
        try session.setSource([5, 6, 0])
        #expect(kind { _ = try session.logitRows([Int32(session.config.vocabSize)]) } == .tokenOutOfRange)
        #expect(kind { _ = try session.logitRows([Int32](repeating: 3, count: 9)) } == .capacity)
        #expect(kind { try session.truncate(to: 1) } == .invalidArgument)
        var options = BeamSearchOptions()
        options.beamCount = 0
        #expect(kind { _ = try session.beamSearch(source: [5, 0], options: options) } == .invalidArgument)
        options.beamCount = 2
        options.returnCount = 3
        #expect(kind { _ = try session.beamSearch(source: [5, 0], options: options) } == .invalidArgument)
        options.returnCount = 1
        options.maxNewTokens = 8
        #expect(kind { _ = try session.beamSearch(source: [5, 0], options: options) } == .capacity)
        options.maxNewTokens = 4
        options.endTokens = [-3]
        #expect(kind { _ = try session.beamSearch(source: [5, 0], options: options) } == .tokenOutOfRange)
        options.endTokens = nil
        #expect(try session.beamSearch(source: [5, 0], options: options).count == 1)
        #expect(kind { _ = try session.teacherForcedLogProbabilities(source: [5, 0], target: []) } == .invalidArgument)
    }

    @Test func missingCrossAttentionWeights() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: marian, weights: {
            $0.replacingFirst("layers.1.encoder_attn.k_proj.weight", with: "layers.1.encoder_attn.k_proj.weighx")
        })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .shape)
        #expect(message { _ = try EncoderDecoderLoader.load(directory: dir.path) }.contains("cross-attention"))
    }

    @Test func inconsistentVocabularySizes() throws {
        let dir = TemporaryDirectory()
        // The config's vocabulary does not match the embedding table.
        try dir.copyModel(from: marian, config: { $0.replacingAll("vocab_size\": 256", "vocab_size\": 300") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .shape)
        // A shared vocabulary cannot have two sizes.
        try dir.copyModel(from: marian, config: { $0.replacingAll("\"decoder_vocab_size\": 256", "\"decoder_vocab_size\": 200") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .format)
        // Separate vocabularies: the target table (and lm_head, final_logits_bias) have 192 rows.
        let separate = Seq2SeqFixtures.directory("marian_f16")
        try dir.copyModel(from: separate, config: { $0.replacingAll("\"decoder_vocab_size\": 192", "\"decoder_vocab_size\": 194") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .shape)
        try dir.copyModel(from: marian, config: { $0.replacingAll("\"decoder_start_token_id\": 255", "\"decoder_start_token_id\": 256") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .format)
    }

    @Test func tyingMattersAndAMissingHeadIsAnError() throws {
        // marian_f32 ties its output to the shared embedding; claiming it is untied needs an lm_head.
        let dir = TemporaryDirectory()
        try dir.copyModel(from: marian, config: { $0.replacingAll("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .shape)
        #expect(message { _ = try EncoderDecoderLoader.load(directory: dir.path) }.contains("lm_head"))
        // marian_f16 has its own lm_head. Declared tied, it still uses it (transformers does not tie
        // two stored tensors that differ); without it, the output is the decoder embedding.
        let separate = Seq2SeqFixtures.directory("marian_f16")
        let reference = try Seq2SeqReference(directory: separate)
        func worstLogProbabilityError() throws -> Double {
            let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: dir.path), sourceCapacity: 32, capacity: 32, threads: 1)
            let logprobs = try session.teacherForcedLogProbabilities(source: reference.sourceIds, target: reference.targetIds)
            return zip(logprobs, reference.logprobs).map { abs($0 - $1) }.max() ?? 0
        }
        let tied: (String) -> String = { $0.replacingAll("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true") }
        try dir.copyModel(from: separate, config: tied)
        #expect(try worstLogProbabilityError() < 1e-3)
        try dir.copyModel(from: separate, config: tied, weights: { $0.replacingFirst("\"lm_head.weight\"", with: "\"lm_head.weighx\"") })
        #expect(try worstLogProbabilityError() > 0.1)
        // Untied, each table is read under its own name: a missing one is named.
        try dir.copyModel(from: separate, weights: { $0.replacingFirst("\"model.decoder.embed_tokens.weight\"", with: "\"model.decoder.embed_tokens.weighx\"") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .shape)
        #expect(message { _ = try EncoderDecoderLoader.load(directory: dir.path) }.contains("model.decoder.embed_tokens.weight"))
    }

    @Test func preNormAndUnknownOptionsAreRefused() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: marian, config: { $0.replacingAll("\"model_type\": \"marian\"", "\"model_type\": \"marian\", \"normalize_before\": true") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .unsupported)
        try dir.copyModel(from: marian, config: { $0.replacingAll("\"activation_function\": \"gelu\"", "\"activation_function\": \"mish\"") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .unsupported)
        try dir.copyModel(from: marian, config: { $0.replacingAll("\"model_type\": \"marian\"", "\"model_type\": \"marian\", \"positional_embedding_style\": \"rotary\"") })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .unsupported)
    }

    @Test func truncatedWeights() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: marian, weights: { Array($0.prefix($0.count / 2)) })
        #expect(kind { _ = try EncoderDecoderLoader.load(directory: dir.path) } == .format)
    }
}

extension String {
    /// Replaces every occurrence of `old` (test helper; no Foundation).
    func replacingAll(_ old: String, _ new: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: old) {
            result += rest[..<range.lowerBound]
            result += new
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
