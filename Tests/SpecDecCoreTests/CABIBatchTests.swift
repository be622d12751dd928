import CSpecDecABI
import SpecDecCore
import SpecDecJSON
import Testing

/// specdec_generate_batch and specdec_beam_search_batch through the C ABI on the shipped
/// pair: batched greedy, every drafter and beam search equal transformers' outputs per
/// sequence; bad sequences fail alone with their status; bad calls fail before any work.
@Suite struct CABIBatchTests {
    static let pair = Fixtures.repositoryRoot + "/models/specdec-en-de-"

    static func session(_ model: OpaquePointer?, sequences: Int32) -> OpaquePointer? {
        var params = specdec_session_default_params()
        params.kv_capacity = 160
        params.n_threads = 2
        params.max_sequences = sequences
        var session: OpaquePointer?
        #expect(specdec_session_create(model, &params, &session) == SPECDEC_OK)
        return session
    }

    struct Outcome { var status: specdec_status; var tokens: [[Int32]]; var stops: [Int32]; var statuses: [Int32] }

    static func generateBatch(_ session: OpaquePointer?, _ inputs: [[Int32]], maxNew: Int32 = 128,
                              spec: specdec_speculative_params_t? = nil, batch: specdec_batch_params_t? = nil,
                              params: specdec_generate_params_t? = nil) -> Outcome {
        var gp = params ?? specdec_generate_default_params()
        if params == nil { gp.max_new_tokens = maxNew }
        let width = Int(gp.max_new_tokens)
        var out = [Int32](repeating: -1, count: max(1, inputs.count * width))
        var lengths = [Int32](repeating: -1, count: max(1, inputs.count))
        var stops = lengths, statuses = lengths
        let counts = inputs.map { Int32($0.count) }
        let status: specdec_status = inputs.withUnsafeBufferPointers { buffers in
            let pointers: [UnsafePointer<Int32>?] = buffers.map { $0.baseAddress }
            var sp = spec ?? specdec_speculative_default_params()
            var bp = batch ?? specdec_batch_default_params()
            if spec == nil {
                return specdec_generate_batch(session, pointers, counts, Int32(inputs.count), &gp, nil,
                                              &bp, &out, Int32(out.count), &lengths, &stops, &statuses)
            }
            return specdec_generate_batch(session, pointers, counts, Int32(inputs.count), &gp, &sp,
                                          &bp, &out, Int32(out.count), &lengths, &stops, &statuses)
        }
        let tokens = inputs.indices.map { i in Array(out[(i * width)..<(i * width + Int(max(0, lengths[i])))]) }
        return Outcome(status: status, tokens: tokens, stops: Array(stops.prefix(inputs.count)), statuses: Array(statuses.prefix(inputs.count)))
    }

    @Test func batchedGreedyAndEveryDrafterEqualTransformers() throws {
        let cases = try BatchDecodingTests.shippedCases()
        let (status, verifier) = CABI.loadModel(Self.pair + "verifier")
        #expect(status == SPECDEC_OK)
        let (_, drafter) = CABI.loadModel(Self.pair + "drafter")
        defer { specdec_model_destroy(verifier); specdec_model_destroy(drafter) }
        let session = Self.session(verifier, sequences: 8)
        defer { specdec_session_destroy(session) }
        let sources = cases.map(\.source), expected = cases.map(\.greedy)

        let plain = Self.generateBatch(session, sources)
        #expect(plain.status == SPECDEC_OK)
        #expect(plain.tokens == expected)
        #expect(plain.statuses.allSatisfy { $0 == SPECDEC_OK })
        #expect(plain.stops.allSatisfy { $0 == SPECDEC_STOP_TOKEN })
        var stats = specdec_stats_t()
        stats.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
        #expect(specdec_session_get_stats(session, &stats) == SPECDEC_OK)
        #expect(Int(stats.generated_tokens) == expected.map(\.count).reduce(0, +))
        #expect(Int(stats.target_calls) < expected.map(\.count).reduce(0, +) / 4, "batched passes: \(stats.target_calls)")
        #expect(specdec_session_length(session) == 0)

        var specdec = CABI.speculative(SPECDEC_DRAFTER_SPECDEC, draftModel: drafter)
        specdec.acceptance = SPECDEC_ACCEPT_TOPK
        specdec.top_beta = 1
        specdec.draft_length = 12  // the shipped drafter's k
        for spec in [CABI.speculative(SPECDEC_DRAFTER_NGRAM), CABI.speculative(SPECDEC_DRAFTER_SUFFIX), specdec] {
            let run = Self.generateBatch(session, sources, spec: spec)
            #expect(run.status == SPECDEC_OK, "\(CABI.lastMessage)")
            #expect(run.tokens == expected, "drafter \(spec.drafter)")
        }
        // SpecDec runs batched: one verifier pass serves many sequences' rounds.
        #expect(specdec_session_get_stats(session, &stats) == SPECDEC_OK)
        let rounds = Int(stats.generated_tokens) - Int(stats.accepted_tokens)
        #expect(stats.accepted_tokens > 0 && Int(stats.target_calls) < rounds / 2, "\(stats.target_calls) passes for \(rounds) rounds")
    }

    @Test func beamSearchBatchEqualsTransformersBeam5() throws {
        let reference = try Fixtures.json(Fixtures.testsDirectory + "/Fixtures/specdec-pair/reference.json")
        let cases = Array((reference["cases"]?.arrayValue ?? []).prefix(8))
        func ids(_ c: JSONValue, _ key: String) -> [Int32] { (c[key]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
        let (_, verifier) = CABI.loadModel(Self.pair + "verifier")
        defer { specdec_model_destroy(verifier) }
        let session = Self.session(verifier, sequences: 1)
        defer { specdec_session_destroy(session) }
        var params = specdec_beam_default_params()
        params.beam_size = 5
        params.max_new_tokens = 128
        let sources = cases.map { ids($0, "source_ids") } + [[]]
        let width = 128
        var tokens = [Int32](repeating: 0, count: sources.count * width), lengths = [Int32](repeating: 0, count: sources.count)
        var scores = [Float](repeating: 0, count: sources.count), ended = lengths, counts = lengths, statuses = lengths
        let status: specdec_status = sources.withUnsafeBufferPointers { buffers in
            specdec_beam_search_batch(session, buffers.map { $0.baseAddress }, sources.map { Int32($0.count) }, Int32(sources.count),
                                      &params, &tokens, &lengths, &scores, &ended, &counts, &statuses)
        }
        #expect(status == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(CABI.lastMessage.hasPrefix("sequence \(cases.count): "))
        for (i, c) in cases.enumerated() {
            #expect(statuses[i] == SPECDEC_OK && counts[i] == 1)
            #expect(Array(tokens[(i * width)..<(i * width + Int(lengths[i]))]) == ids(c, "beam5_ids"), "source \(i)")
        }
        #expect(statuses[cases.count] == SPECDEC_ERR_INVALID_ARGUMENT && counts[cases.count] == 0)
    }

    @Test func badSequencesAndBadCalls() throws {
        let cases = try BatchDecodingTests.shippedCases()
        let (_, verifier) = CABI.loadModel(Self.pair + "verifier")
        defer { specdec_model_destroy(verifier) }
        let session = Self.session(verifier, sequences: 4)
        defer { specdec_session_destroy(session) }
        let vocab = Int32(1 << 20)
        let run = Self.generateBatch(session, [cases[0].source, [], [5, vocab, 0], cases[1].source])
        #expect(run.status == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(CABI.lastMessage.hasPrefix("sequence 1: "), "\(CABI.lastMessage)")
        #expect(run.statuses == [SPECDEC_OK, SPECDEC_ERR_INVALID_ARGUMENT, SPECDEC_ERR_TOKEN_OUT_OF_RANGE, SPECDEC_OK])
        #expect(run.tokens[0] == cases[0].greedy && run.tokens[3] == cases[1].greedy && run.tokens[1].isEmpty && run.tokens[2].isEmpty)
        #expect(run.stops[1] == SPECDEC_STOP_ERROR)

        // Whole-call failures: nothing decoded, the session stays usable.
        #expect(Self.generateBatch(session, []).status == SPECDEC_ERR_INVALID_ARGUMENT)
        var big = specdec_batch_default_params()
        big.batch_size = 5
        #expect(Self.generateBatch(session, [cases[0].source], batch: big).status == SPECDEC_ERR_CAPACITY)
        #expect(CABI.lastMessage.contains("max_sequences"))
        var withCallback = specdec_generate_default_params()
        withCallback.callback = { (_: UnsafeMutableRawPointer?, _: Int32, _: Int32) -> Int32 in 0 }
        #expect(Self.generateBatch(session, [cases[0].source], params: withCallback).status == SPECDEC_ERR_INVALID_ARGUMENT)
        var gp = specdec_generate_default_params()
        gp.max_new_tokens = 16
        var out = [Int32](repeating: 0, count: 31), lengths = [Int32](repeating: 0, count: 2)
        let small: specdec_status = [cases[0].source, cases[1].source].withUnsafeBufferPointers { b in
            specdec_generate_batch(session, b.map { $0.baseAddress }, [Int32(b[0].count), Int32(b[1].count)], 2, &gp, nil, nil,
                                   &out, 31, &lengths, nil, nil)
        }
        #expect(small == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(specdec_generate_batch(session, nil, nil, 1, &gp, nil, nil, &out, 31, &lengths, nil, nil) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_generate_batch(nil, nil, nil, 1, &gp, nil, nil, &out, 31, &lengths, nil, nil) == SPECDEC_ERR_INVALID_ARGUMENT)
        var seeds: [UInt64] = [1, 2]
        let seeded: Outcome = seeds.withUnsafeMutableBufferPointer { s in
            var bp = specdec_batch_default_params()
            bp.seeds = UnsafePointer(s.baseAddress)
            var sampling = specdec_generate_default_params()
            sampling.max_new_tokens = 20
            sampling.temperature = 0.7
            return Self.generateBatch(session, [cases[2].source, cases[2].source], batch: bp, params: sampling)
        }
        #expect(seeded.status == SPECDEC_OK)
        #expect(Self.generateBatch(session, [cases[3].source]).tokens == [cases[3].greedy])
        // A model whose sessions ask for more sequences than max_batch is refused at creation.
        var params = specdec_session_default_params()
        params.max_batch = 4
        params.max_sequences = 5
        var refused: OpaquePointer?
        #expect(specdec_session_create(verifier, &params, &refused) == SPECDEC_ERR_INVALID_ARGUMENT && refused == nil)
    }
}
