import CSpecDecABI
import SpecDecCore
import SpecDecJSON
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Model files that lie (about their sizes, offsets, shapes or values) are refused with a
/// status before anything is allocated for them, or load and run without a crash.
@Suite struct CABIHostileFileTests {
    let llama = Fixtures.decoder("llama_f32")
    let marian = Seq2SeqFixtures.directory("marian_f32")

    func expectRefused(_ directory: String, _ status: specdec_status, mentioning text: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let before = ProcessProbe.residentBytes
        let (s, model) = CABI.loadModel(directory)
        defer { specdec_model_destroy(model) }
        #expect(s == status, "status \(s): \(CABI.lastMessage)", sourceLocation: sourceLocation)
        #expect(model == nil, sourceLocation: sourceLocation)
        #expect(CABI.lastMessage.contains(text), "message: \(CABI.lastMessage)", sourceLocation: sourceLocation)
        // Refused before allocating: nothing near the size the file claims (gigabytes at
        // least) was taken. The bound leaves room for tests running alongside.
        #expect(ProcessProbe.residentBytes - before < 256 << 20, sourceLocation: sourceLocation)
    }

    @Test(arguments: [("hidden_size", "64"), ("vocab_size", "256"), ("num_hidden_layers", "2"), ("intermediate_size", "128"),
                      ("num_attention_heads", "4")])
    func dimensionsThatWouldNeedTerabytes(_ key: String, _ stored: String) throws {
        let dir = TemporaryDirectory()
        // Within the engine's limits the tensors are checked against the claim first.
        try dir.copyModel(from: llama, config: { $0.replacingOccurrences("\"\(key)\": \(stored)", "\"\(key)\": 8388608") })
        let (status, model) = CABI.loadModel(dir.path)
        specdec_model_destroy(model)
        #expect(status == SPECDEC_ERR_SHAPE || status == SPECDEC_ERR_FORMAT, "\(key): status \(status): \(CABI.lastMessage)")
        // Beyond them the config itself is refused, naming the field.
        try dir.copyModel(from: llama, config: { $0.replacingOccurrences("\"\(key)\": \(stored)", "\"\(key)\": 1099511627776") })
        expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: key)
    }

    @Test func contextOfTwoToTheThirtyFirst() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: llama, config: { $0.replacingOccurrences("\"max_position_embeddings\": 128", "\"max_position_embeddings\": 2147483648") })
        expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "max_position_embeddings")
        let seq2seq = TemporaryDirectory()
        try seq2seq.copyModel(from: marian, config: { $0.replacingOccurrences("\"max_position_embeddings\": 128", "\"max_position_embeddings\": 2147483648") })
        expectRefused(seq2seq.path, SPECDEC_ERR_FORMAT, mentioning: "max_position_embeddings")
    }

    /// Marian computes a sinusoidal table of max_position_embeddings rows at load: a claim of
    /// 16 million positions is refused instead of filling gigabytes.
    @Test func encoderDecoderPositionTableIsBounded() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: marian, config: { $0.replacingOccurrences("\"max_position_embeddings\": 128", "\"max_position_embeddings\": 16777215") })
        expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "max_position_embeddings")
    }

    @Test func sessionCapacityBeyondTheContext() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        for capacity in [Int32.max, 129] {
            let (status, session) = CABI.createSession(model, capacity: capacity)
            #expect(status == SPECDEC_ERR_CAPACITY && session == nil, "\(capacity): \(CABI.lastMessage)")
        }
        let (status, session) = CABI.createSession(model, capacity: -1)
        #expect(status == SPECDEC_ERR_INVALID_ARGUMENT && session == nil)
    }

    @Test func tensorOffsetsPastTheEndOfTheFile() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: llama, weights: { bytes in
            let dataSize = SafetensorsEditing.split(bytes).data.count
            return SafetensorsEditing.editEntry(bytes, "model.norm.weight") {
                $0["data_offsets"] = SafetensorsEditing.integers([dataSize, dataSize + 256])
            }
        })
        expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "truncated")
        // Offsets too large for any integer type.
        try dir.copyModel(from: llama, weights: { bytes in
            SafetensorsEditing.editEntry(bytes, "model.norm.weight") { $0["data_offsets"] = .array([.integer(0), .double(1e300)]) }
        })
        expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "model.norm.weight")
    }

    @Test func headerLengthLargerThanTheFile() throws {
        let dir = TemporaryDirectory()
        for stated in [UInt64(429_409), UInt64(Int64.max), UInt64.max] {
            try dir.copyModel(from: llama, weights: { bytes in
                var edited = bytes
                for i in 0..<8 { edited[i] = UInt8(truncatingIfNeeded: stated >> (8 * UInt64(i))) }
                return edited
            })
            expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "truncated")
        }
    }

    /// A shape whose byte count overflows 64 bits must not wrap around to a small number.
    @Test func shapeWhoseSizeOverflows() throws {
        let dir = TemporaryDirectory()
        for shape in [[1 << 39, 1 << 23], [1 << 39, 1 << 39], [1 << 31, 1 << 31]] {
            try dir.copyModel(from: llama, weights: { bytes in
                SafetensorsEditing.editEntry(bytes, "model.norm.weight") { $0["shape"] = SafetensorsEditing.integers(shape) }
            })
            expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "model.norm.weight")
        }
    }

    @Test func deeplyNestedHeader() throws {
        let dir = TemporaryDirectory()
        let header = Array(String(repeating: "[", count: 100_000).utf8) + Array(String(repeating: "]", count: 100_000).utf8)
        try dir.copyModel(from: llama, weights: { _ in SafetensorsEditing.withLength(0, header: header, data: [], exact: true) })
        expectRefused(dir.path, SPECDEC_ERR_FORMAT, mentioning: "nesting")
    }

    @Test func shapesThatDisagreeWithTheConfig() throws {
        let dir = TemporaryDirectory()
        // Same element count, other shape.
        try dir.copyModel(from: llama, weights: { bytes in
            SafetensorsEditing.editEntry(bytes, "model.layers.0.self_attn.q_proj.weight") { $0["shape"] = SafetensorsEditing.integers([32, 128]) }
        })
        expectRefused(dir.path, SPECDEC_ERR_SHAPE, mentioning: "q_proj")
        let seq2seq = TemporaryDirectory()
        try seq2seq.copyModel(from: marian, config: { $0.replacingOccurrences("\"d_model\": 64", "\"d_model\": 128") })
        expectRefused(seq2seq.path, SPECDEC_ERR_SHAPE, mentioning: "shape")
        try seq2seq.copyModel(from: marian, config: { $0.replacingOccurrences("\"decoder_layers\": 2", "\"decoder_layers\": 3") })
        expectRefused(seq2seq.path, SPECDEC_ERR_SHAPE, mentioning: "decoder.layers.2")
    }

    /// Files far larger than memory (a terabyte of sparse padding after the real weights, so
    /// they cost no disk): mapped, only the pages the tensors use are read and the model
    /// works; read into memory, they are refused before the buffer is allocated.
    @Test func filesLargerThanMemory() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: llama)
        #expect(truncate(dir.path + "/model.safetensors", 1 << 40) == 0)
        let (mapped, m1) = CABI.loadModel(dir.path, useMmap: true)
        #expect(mapped == SPECDEC_OK, "\(CABI.lastMessage)")
        let (_, session) = CABI.createSession(m1)
        let reference = try DecoderReference(directory: llama)
        #expect(CABI.generate(session, reference.promptIds, count: 24) == (SPECDEC_OK, reference.greedyIds))
        specdec_session_destroy(session)
        specdec_model_destroy(m1)
        let (read, m2) = CABI.loadModel(dir.path, useMmap: false)
        specdec_model_destroy(m2)
        #expect(read == SPECDEC_ERR_OUT_OF_MEMORY, "\(CABI.lastMessage)")
        #expect(CABI.lastMessage.contains("use_mmap"))
        let config = TemporaryDirectory()
        try config.copyModel(from: llama)
        #expect(truncate(config.path + "/config.json", 1 << 40) == 0)
        expectRefused(config.path, SPECDEC_ERR_FORMAT, mentioning: "config.json")
    }

    /// NaN and infinite weights load (the engine does not scan them) and give NaN logits. A
    /// NaN never wins a comparison, so greedy argmax settles on the first id (0 when every
    /// logit is NaN), sampling on an id of the candidate list: the ids stay in range, nothing
    /// crashes, and the session stays usable.
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteWeights(_ value: Float) throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: llama, weights: { SafetensorsEditing.fillingFloats($0, with: value) })
        let (status, model) = CABI.loadModel(dir.path)
        #expect(status == SPECDEC_OK, "\(CABI.lastMessage)")
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model)
        defer { specdec_session_destroy(session) }
        let reference = try DecoderReference(directory: llama)
        let prompt = reference.promptIds
        func expectInRange(_ result: (specdec_status, [Int32]), _ what: String) {
            #expect(result.0 == SPECDEC_OK, "\(what): \(CABI.sessionMessage(session))")
            #expect(result.1.count == 16 && result.1.allSatisfy { $0 >= 0 && $0 < 256 }, "\(what): \(result.1)")
        }
        let greedy = CABI.generate(session, prompt, count: 16)
        expectInRange(greedy, "greedy")
        var sampling = CABI.generateParams(16)
        sampling.temperature = 0.8
        sampling.top_k = 10
        sampling.top_p = 0.9
        sampling.seed = 7
        expectInRange(CABI.generate(session, prompt, count: 16, params: sampling), "sampling")
        sampling.top_k = 0
        sampling.top_p = 1
        expectInRange(CABI.generate(session, prompt, count: 16, params: sampling), "temperature only")
        expectInRange(CABI.generate(session, prompt, count: 16, spec: CABI.speculative(SPECDEC_DRAFTER_NGRAM)), "ngram")
        var sample = CABI.speculative(SPECDEC_DRAFTER_MODEL, draftModel: model)
        sample.acceptance = SPECDEC_ACCEPT_SAMPLE
        expectInRange(CABI.generate(session, prompt, count: 16, params: sampling, spec: sample), "model drafter, sampled")
        sample.acceptance = SPECDEC_ACCEPT_TOPK
        expectInRange(CABI.generate(session, prompt, count: 16, spec: sample), "model drafter, top-k")
        #expect(specdec_session_reset(session) == SPECDEC_OK)
        #expect(CABI.generate(session, prompt, count: 16) == greedy)

        // A non-finite draft model cannot change what a healthy target generates greedily.
        let (_, healthy) = CABI.loadModel(llama)
        defer { specdec_model_destroy(healthy) }
        let (_, target) = CABI.createSession(healthy)
        defer { specdec_session_destroy(target) }
        let drafted = CABI.generate(target, prompt, count: 24, spec: CABI.speculative(SPECDEC_DRAFTER_MODEL, draftModel: model))
        #expect(drafted.0 == SPECDEC_OK && drafted.1 == reference.greedyIds)
    }

    @Test(arguments: [Float.nan, .infinity])
    func nonFiniteEncoderDecoderWeights(_ value: Float) throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: marian, weights: { SafetensorsEditing.fillingFloats($0, with: value) })
        let (status, model) = CABI.loadModel(dir.path)
        #expect(status == SPECDEC_OK, "\(CABI.lastMessage)")
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model, capacity: 64)
        defer { specdec_session_destroy(session) }
        let source = try Seq2SeqReference(directory: marian).sourceIds
        let plain = CABI.translate(session, source, count: 12)
        #expect(plain.0 == SPECDEC_OK && plain.1.allSatisfy { $0 >= 0 && $0 < 256 }, "\(CABI.sessionMessage(session))")
        let drafted = CABI.translate(session, source, count: 12, spec: CABI.speculative(SPECDEC_DRAFTER_NGRAM))
        #expect(drafted == plain)
        var beam = specdec_beam_default_params()
        beam.beam_size = 3
        beam.max_new_tokens = 12
        beam.num_return = 3
        var tokens = [Int32](repeating: 0, count: 36)
        var lengths = [Int32](repeating: 0, count: 3), ended = [Int32](repeating: 0, count: 3), count: Int32 = 0
        var scores = [Float](repeating: 0, count: 3)
        let beamStatus = specdec_beam_search(session, source, Int32(source.count), &beam, &tokens, &lengths, &scores, &ended, &count)
        #expect(beamStatus == SPECDEC_OK, "\(CABI.sessionMessage(session))")
        #expect(tokens.allSatisfy { $0 >= 0 && $0 < 256 })
        #expect(CABI.translate(session, source, count: 12) == plain)
    }

    /// A mapped file truncated on disk raises SIGBUS when a page past the new end is touched
    /// (as in every mmap-based engine). use_mmap = 0 reads the weights into memory, so the
    /// model no longer depends on the file.
    @Test func weightsTruncatedAfterALoadWithoutMmap() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: llama)
        let (status, model) = CABI.loadModel(dir.path, useMmap: false)
        #expect(status == SPECDEC_OK)
        defer { specdec_model_destroy(model) }
        #expect(truncate(dir.path + "/model.safetensors", 0) == 0)
        #expect(unlink(dir.path + "/model.safetensors") == 0)
        let (_, session) = CABI.createSession(model)
        defer { specdec_session_destroy(session) }
        let reference = try DecoderReference(directory: llama)
        #expect(CABI.generate(session, reference.promptIds, count: 24) == (SPECDEC_OK, reference.greedyIds))

        let seq2seq = TemporaryDirectory()
        try seq2seq.copyModel(from: marian)
        let (s2, translator) = CABI.loadModel(seq2seq.path, useMmap: false)
        #expect(s2 == SPECDEC_OK)
        defer { specdec_model_destroy(translator) }
        #expect(truncate(seq2seq.path + "/model.safetensors", 0) == 0)
        let (_, s2session) = CABI.createSession(translator, capacity: 64)
        defer { specdec_session_destroy(s2session) }
        let s2reference = try Seq2SeqReference(directory: marian)
        let translated = CABI.translate(s2session, s2reference.sourceIds, count: Int32(s2reference.greedyIds.count))
        #expect(translated.0 == SPECDEC_OK && translated.1 == s2reference.greedyIds)
    }
}
