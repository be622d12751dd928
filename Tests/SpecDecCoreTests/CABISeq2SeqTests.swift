import CSpecDecABI
import SpecDecCore
import Testing

/// Encoder-decoder models through the C ABI, against the transformers references.
@Suite struct CABISeq2SeqTests {
    func open(_ name: String, _ body: (OpaquePointer?, OpaquePointer?, Seq2SeqReference) throws -> Void) throws {
        let directory = Seq2SeqFixtures.directory(name)
        var model: OpaquePointer? = nil
        #expect(directory.withCString { specdec_model_load($0, nil, &model) } == SPECDEC_OK, "\(String(cString: specdec_last_error_message()))")
        defer { specdec_model_destroy(model) }
        var session: OpaquePointer? = nil
        var sp = specdec_session_default_params()
        sp.kv_capacity = 64
        #expect(specdec_session_create(model, &sp, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        try body(model, session, try Seq2SeqReference(directory: directory))
    }

    @Test(arguments: Seq2SeqFixtures.transformersNames)
    func greedyBeamAndScoringMatchTransformers(_ name: String) throws {
        try open(name) { model, session, reference in
            var info = specdec_model_info_t()
            info.struct_size = UInt32(MemoryLayout<specdec_model_info_t>.size)
            #expect(specdec_model_get_info(model, &info) == SPECDEC_OK)
            #expect(info.is_encoder_decoder == 1 && info.decoder_start_token_id == Int32(reference.decoderStartTokenId))

            var gp = specdec_generate_default_params()
            gp.max_new_tokens = Int32(reference.greedyIds.count)
            var out = [Int32](repeating: 0, count: reference.greedyIds.count)
            var n: Int32 = 0
            let src = reference.sourceIds
            #expect(specdec_generate_seq2seq(session, src, Int32(src.count), nil, 0, &gp, nil, &out, gp.max_new_tokens, &n) == SPECDEC_OK)
            #expect(Array(out[0..<Int(n)]) == reference.greedyIds)
            // Speculatively, with prompt lookup over the source.
            var spec = specdec_speculative_default_params()
            spec.drafter = SPECDEC_DRAFTER_NGRAM
            #expect(specdec_generate_seq2seq(session, src, Int32(src.count), nil, 0, &gp, &spec, &out, gp.max_new_tokens, &n) == SPECDEC_OK)
            #expect(Array(out[0..<Int(n)]) == reference.greedyIds)
            // The model drafting for itself.
            spec.drafter = SPECDEC_DRAFTER_MODEL
            spec.draft_model = model
            #expect(specdec_generate_seq2seq(session, src, Int32(src.count), nil, 0, &gp, &spec, &out, gp.max_new_tokens, &n) == SPECDEC_OK,
                    "\(String(cString: specdec_session_error_message(session)))")
            #expect(Array(out[0..<Int(n)]) == reference.greedyIds)
            // A forced prefix: the first greedy tokens, then the rest follows.
            let prefix = Array(reference.greedyIds.prefix(3))
            #expect(specdec_generate_seq2seq(session, src, Int32(src.count), prefix, 3, &gp, nil, &out, gp.max_new_tokens, &n) == SPECDEC_OK)
            let continuation = Array(reference.greedyIds.dropFirst(3))
            #expect(Array(out[0..<min(Int(n), continuation.count)]) == Array(continuation.prefix(Int(n))))

            for run in reference.beams {
                var bp = specdec_beam_default_params()
                bp.beam_size = Int32(run.beamCount)
                bp.max_new_tokens = Int32(run.maxNewTokens)
                bp.length_penalty = Float(run.lengthPenalty)
                bp.early_stopping = run.earlyStopping.rawValue
                bp.num_return = Int32(run.returnCount)
                var tokens = [Int32](repeating: 0, count: run.returnCount * run.maxNewTokens)
                var lengths = [Int32](repeating: 0, count: run.returnCount)
                var scores = [Float](repeating: 0, count: run.returnCount)
                var ended = [Int32](repeating: 0, count: run.returnCount)
                var count: Int32 = 0
                #expect(specdec_beam_search(session, src, Int32(src.count), &bp, &tokens, &lengths, &scores, &ended, &count) == SPECDEC_OK)
                #expect(Int(count) == run.hypotheses.count)
                for (i, h) in run.hypotheses.enumerated() where i < Int(count) {
                    let ours = Array(tokens[(i * run.maxNewTokens)..<(i * run.maxNewTokens + Int(lengths[i]))])
                    #expect(ours == h.tokens, "\(name) beam \(run.beamCount) lp \(run.lengthPenalty) hypothesis \(i)")
                    #expect(abs(Double(scores[i]) - h.score) < 1e-3)
                    #expect((ended[i] == 1) == h.endedWithEndToken)
                }
            }

            // Teacher forcing through set_source + eval.
            #expect(specdec_session_set_source(session, src, Int32(src.count)) == SPECDEC_OK)
            let decoderInput = [Int32(reference.decoderStartTokenId)] + reference.targetIds.dropLast()
            let vocab = Int(specdec_model_vocab_size(model))
            var logits = [Float](repeating: 0, count: decoderInput.count * vocab)
            #expect(specdec_session_eval(session, decoderInput, nil, Int32(decoderInput.count), &logits, logits.count) == SPECDEC_OK)
            for (row, target) in reference.targetIds.enumerated() {
                let slice = Array(logits[(row * vocab)..<((row + 1) * vocab)])
                let m = slice.max()!
                let lse = log(slice.reduce(0.0) { $0 + exp(Double($1 - m)) }) + Double(m)
                #expect(abs(Double(slice[Int(target)]) - lse - reference.logprobs[row]) < 1e-3)
            }
        }
    }

    @Test func familiesAreNotMixedUp() throws {
        try open("marian_f32") { _, session, reference in
            var gp = specdec_generate_default_params()
            gp.max_new_tokens = 4
            var out = [Int32](repeating: 0, count: 4)
            var n: Int32 = 0
            #expect(specdec_generate(session, reference.sourceIds, Int32(reference.sourceIds.count), &gp, &out, 4, &n) == SPECDEC_ERR_INVALID_ARGUMENT)
            #expect(String(cString: specdec_session_error_message(session)).contains("encoder-decoder"))
            let long = [Int32](repeating: 5, count: 10_000)
            #expect(specdec_generate_seq2seq(session, long, Int32(long.count), nil, 0, &gp, nil, &out, 4, &n) == SPECDEC_ERR_CAPACITY)
            let bad: [Int32] = [5, 999_999]
            #expect(specdec_generate_seq2seq(session, bad, 2, nil, 0, &gp, nil, &out, 4, &n) == SPECDEC_ERR_TOKEN_OUT_OF_RANGE)
            #expect(specdec_generate_seq2seq(session, reference.sourceIds, Int32(reference.sourceIds.count), nil, 0, &gp, nil, &out, 4, &n) == SPECDEC_OK)
        }
        var model: OpaquePointer? = nil
        #expect(Fixtures.decoder("llama_f32").withCString { specdec_model_load($0, nil, &model) } == SPECDEC_OK)
        defer { specdec_model_destroy(model) }
        var session: OpaquePointer? = nil
        #expect(specdec_session_create(model, nil, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        let src: [Int32] = [5, 6, 7]
        #expect(specdec_session_set_source(session, src, 3) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(String(cString: specdec_session_error_message(session)).contains("decoder-only"))
    }
}

#if canImport(Glibc)
import Glibc
#endif
