import SpecDecCore
import Testing

/// The engine's Spec-Drafter against the PyTorch drafter of training/models.py on a
/// random-weight fixture (Tests/Fixtures/specdec, made by training/export_drafter.py
/// --fixture): the logits of every mask slot within 1e-3, argmax identical.
@Suite struct SpecDrafterParityTests {
    static let directory = Fixtures.testsDirectory + "/Fixtures/specdec"

    @Test(arguments: [0, 2]) func slotLogitsMatchPyTorch(threads: Int) throws {
        let model = try SpecDrafterModel(directory: Self.directory + "/tiny-drafter")
        let pool = threads > 0 ? ThreadPool(threadCount: threads) : nil
        let reference = try Fixtures.json(Self.directory + "/reference.json")
        let cases = reference["cases"]?.arrayValue ?? []
        #expect(cases.count >= 4)
        let vocab = model.config.vocabSize
        for c in cases {
            func ids(_ key: String) -> [Int32] { (c[key]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
            let k = c["k"]?.intValue ?? 0
            let encoded = try model.encode(ids("source_ids"), pool: pool)
            let logits = try model.draftLogits(encoded, prefix: ids("prefix_ids"), k: k, pool: pool)
            let expected = (c["logits"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
            var worst: Float = 0
            var argmax: [Int32] = []
            for slot in 0..<k {
                let row = Array(logits[(slot * vocab)..<((slot + 1) * vocab)])
                for (a, b) in zip(row, expected[slot]) { worst = max(worst, abs(a - b)) }
                argmax.append(Int32(row.indices.max { row[$0] < row[$1] }!))
            }
            #expect(worst < 1e-3, "\(c["name"]?.stringValue ?? ""): max |Δ logit| \(worst)")
            #expect(argmax == ids("argmax_ids"))
        }
    }

    /// The shipped drafter (models/specdec-en-de-drafter, fp16) drafts what the PyTorch
    /// drafter drafts (tools/fixtures/make_specdec_pair_reference.py).
    @Test func shippedDrafterMatchesPyTorch() throws {
        let model = try SpecDrafterModel(directory: Fixtures.repositoryRoot + "/models/specdec-en-de-drafter")
        let reference = try Fixtures.json(Fixtures.testsDirectory + "/Fixtures/specdec-pair/reference.json")
        let cases = reference["cases"]?.arrayValue ?? []
        #expect(cases.count >= 20)
        let k = model.config.blockSize, vocab = model.config.vocabSize
        let pool = ThreadPool(threadCount: 2)
        var matching = 0
        for c in cases {
            func ids(_ key: String) -> [Int32] { (c[key]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
            let logits = try model.draftLogits(try model.encode(ids("source_ids"), pool: pool), prefix: ids("draft_prefix_ids"), k: k, pool: pool)
            let draft = (0..<k).map { slot in
                Int32(logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress! + slot * vocab, count: vocab) })
            }
            if draft == ids("draft_ids") { matching += 1 }
        }
        #expect(matching == cases.count, "\(matching) of \(cases.count) drafts identical")
    }

    @Test func badInputGetsErrors() throws {
        let model = try SpecDrafterModel(directory: Self.directory + "/tiny-drafter")
        #expect(throws: SpecDecError.self) { _ = try model.encode([Int32](repeating: 3, count: model.config.maxPositions + 1)) }
        #expect(throws: SpecDecError.self) { _ = try model.encode([Int32(model.config.vocabSize)]) }
        let encoded = try model.encode([5, 6, 0])
        #expect(throws: SpecDecError.self) { _ = try model.draftLogits(encoded, prefix: [Int32](repeating: 4, count: model.config.maxPositions), k: 5) }
    }
}

import CSpecDecABI

/// The Spec-Drafter through the C ABI: it loads as a model, serves only as a draft model,
/// and refuses a target of another vocabulary or a draft length it was not trained for.
@Suite struct SpecDrafterCABITests {
    @Test func loadsAndRefusesMisuse() throws {
        var drafter: OpaquePointer? = nil
        #expect((SpecDrafterParityTests.directory + "/tiny-drafter").withCString { specdec_model_load($0, nil, &drafter) } == SPECDEC_OK)
        defer { specdec_model_destroy(drafter) }
        var info = specdec_model_info_t()
        info.struct_size = UInt32(MemoryLayout<specdec_model_info_t>.size)
        #expect(specdec_model_get_info(drafter, &info) == SPECDEC_OK && info.architecture == SPECDEC_ARCH_SPEC_DRAFTER)
        var session: OpaquePointer? = nil
        #expect(specdec_session_create(drafter, nil, &session) == SPECDEC_ERR_INVALID_ARGUMENT)

        var target: OpaquePointer? = nil
        #expect(Seq2SeqFixtures.directory("marian_f32").withCString { specdec_model_load($0, nil, &target) } == SPECDEC_OK)
        defer { specdec_model_destroy(target) }
        #expect(specdec_session_create(target, nil, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        var gp = specdec_generate_default_params()
        gp.max_new_tokens = 4
        var spec = specdec_speculative_default_params()
        spec.drafter = SPECDEC_DRAFTER_SPECDEC
        spec.acceptance = SPECDEC_ACCEPT_TOPK
        spec.draft_model = drafter
        spec.draft_length = 7   // the fixture was trained for k = 5
        var out = [Int32](repeating: 0, count: 4)
        var n: Int32 = 0
        let source: [Int32] = [5, 6, 7, 0]
        #expect(specdec_generate_seq2seq(session, source, 4, nil, 0, &gp, &spec, &out, 4, &n) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(String(cString: specdec_session_error_message(session)).contains("trained for k = 5"))
        spec.draft_length = 5
        #expect(specdec_generate_seq2seq(session, source, 4, nil, 0, &gp, &spec, &out, 4, &n) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(String(cString: specdec_session_error_message(session)).contains("incompatible vocabularies"))
        spec.drafter = SPECDEC_DRAFTER_NONE
        #expect(specdec_generate_seq2seq(session, source, 4, nil, 0, &gp, &spec, &out, 4, &n) == SPECDEC_OK)

        // A decoder-only target has no source to draft from.
        var decoderOnly: OpaquePointer? = nil
        #expect(Fixtures.decoder("llama_f32").withCString { specdec_model_load($0, nil, &decoderOnly) } == SPECDEC_OK)
        defer { specdec_model_destroy(decoderOnly) }
        var decoderSession: OpaquePointer? = nil
        #expect(specdec_session_create(decoderOnly, nil, &decoderSession) == SPECDEC_OK)
        defer { specdec_session_destroy(decoderSession) }
        spec.drafter = SPECDEC_DRAFTER_SPECDEC
        let prompt: [Int32] = [1, 2, 3]
        #expect(specdec_generate_speculative(decoderSession, prompt, 3, &gp, &spec, &out, 4, &n) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(String(cString: specdec_session_error_message(decoderSession)).contains("encoder-decoder targets"))
        #expect(specdec_generate(decoderSession, prompt, 3, &gp, &out, 4, &n) == SPECDEC_OK)
    }
}

/// SpecDec end to end in the engine: a Spec-Drafter drafts for marian_f32 and
/// Spec-Verification accepts; with beta = 1 the output is the target's greedy output
/// whatever the (random) drafter proposes, and looser settings still run.
@Suite struct SpecDecEndToEndTests {
    @Test func specVerificationWithBetaOneIsGreedy() throws {
        let directory = Seq2SeqFixtures.directory("marian_f32")
        let reference = try Seq2SeqReference(directory: directory)
        let target = try EncoderDecoderLoader.load(directory: directory)
        let specDrafter = try SpecDrafterModel(directory: SpecDrafterParityTests.directory + "/marian-drafter")
        var options = GenerationOptions()
        options.maxNewTokens = reference.greedyIds.count
        var spec = SpeculativeOptions()
        spec.draftLength = specDrafter.config.blockSize
        for (beta, tau) in [(1, Float(0)), (5, Float(3))] {
            let session = try Seq2SeqSession(model: target, capacity: 64)
            let drafter = try SpecDecDrafter(model: specDrafter, target: target.config, requestedLength: spec.draftLength)
            var output = [Int32](repeating: 0, count: options.maxNewTokens)
            let result = reference.sourceIds.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { out in
                    session.generateSpeculative(source: source, options: options, speculative: spec, drafter: drafter,
                                                rule: TopBetaToleranceAcceptance(beta: beta, tau: tau), output: out.baseAddress!) { _, _ in .proceed }
                }
            }
            #expect(result.error == nil)
            #expect(session.stats.draftedTokens > 0)
            if beta == 1 { #expect(Array(output[0..<result.count]) == reference.greedyIds) }
            #expect(result.count == reference.greedyIds.count || output[result.count - 1] == Int32(reference.eosTokenId))
        }
    }
}
