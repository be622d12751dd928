import CSpecDecABI
import SpecDecCore
import Testing

/// Every malformed input reaches the caller as a status and a message through the C
/// ABI, and a session stays usable after a failed call.
@Suite struct CABIBadInputTests {
    let fixture = Fixtures.decoder("llama_f32")

    func load(_ path: String) -> (specdec_status, OpaquePointer?) {
        var model: OpaquePointer? = nil
        let status = path.withCString { specdec_model_load($0, nil, &model) }
        return (status, model)
    }

    var lastMessage: String { String(cString: specdec_last_error_message()) }

    func expectLoadFails(_ path: String, _ status: Int32, mentioning text: String) {
        let (s, model) = load(path)
        #expect(s == status, "status \(s): \(lastMessage)")
        #expect(model == nil)
        #expect(lastMessage.contains(text), "message: \(lastMessage)")
    }

    @Test func missingDirectory() {
        expectLoadFails("/nonexistent/model", SPECDEC_ERR_IO, mentioning: "/nonexistent/model")
    }

    @Test func missingWeightsFile() {
        let dir = TemporaryDirectory()
        dir.write("config.json", text: String(decoding: try! MappedFile.readAll(fixture + "/config.json"), as: UTF8.self))
        expectLoadFails(dir.path, SPECDEC_ERR_IO, mentioning: "model.safetensors")
    }

    @Test func invalidJSON() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, config: { String($0.dropLast(10)) })
        expectLoadFails(dir.path, SPECDEC_ERR_FORMAT, mentioning: "invalid JSON")
    }

    @Test func unknownArchitecture() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, config: { $0.replacingOccurrences("\"llama\"", "\"mamba\"") })
        expectLoadFails(dir.path, SPECDEC_ERR_UNSUPPORTED, mentioning: "mamba")
    }

    @Test func truncatedSafetensors() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, weights: { Array($0.prefix($0.count - 1000)) })
        expectLoadFails(dir.path, SPECDEC_ERR_FORMAT, mentioning: "truncated")
        try dir.copyModel(from: fixture, weights: { Array($0.prefix(5)) })
        expectLoadFails(dir.path, SPECDEC_ERR_FORMAT, mentioning: "truncated")
    }

    @Test func tensorWithWrongShape() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, config: { $0.replacingOccurrences("\"intermediate_size\": 128", "\"intermediate_size\": 96") })
        expectLoadFails(dir.path, SPECDEC_ERR_SHAPE, mentioning: "gate_proj")
    }

    @Test func tensorWithWrongDtype() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, weights: { $0.replacingFirst("\"F32\"", with: "\"I32\"") })
        expectLoadFails(dir.path, SPECDEC_ERR_UNSUPPORTED, mentioning: "I32")
    }

    @Test func missingTensor() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, weights: { $0.replacingFirst("model.norm.weight", with: "model.norm.weigh_") })
        expectLoadFails(dir.path, SPECDEC_ERR_SHAPE, mentioning: "model.norm.weight")
    }

    @Test func nullPointers() {
        var model: OpaquePointer? = nil
        #expect(specdec_model_load(nil, nil, &model) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(fixture.withCString { specdec_model_load($0, nil, nil) } == SPECDEC_ERR_INVALID_ARGUMENT)
        var session: OpaquePointer? = nil
        #expect(specdec_session_create(nil, nil, &session) == SPECDEC_ERR_INVALID_ARGUMENT)
        var n: Int32 = 0
        #expect(specdec_generate(nil, nil, 0, nil, nil, 0, &n) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_session_eval(nil, nil, nil, 1, nil, 0) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_session_truncate(nil, 0) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_model_get_info(nil, nil) == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_session_length(nil) == -1)
        #expect(specdec_model_vocab_size(nil) == -1)
        specdec_model_destroy(nil)
        specdec_session_destroy(nil)
        #expect(String(cString: specdec_status_string(999)) == "unknown status")
    }

    @Test func sessionStaysUsableAfterEveryBadCall() throws {
        let (status, model) = load(fixture)
        #expect(status == SPECDEC_OK)
        defer { specdec_model_destroy(model) }
        var params = specdec_session_default_params()
        params.kv_capacity = 16
        params.max_batch = 8
        var session: OpaquePointer? = nil
        #expect(specdec_session_create(model, &params, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        let vocab = Int(specdec_model_vocab_size(model))
        var out = [Int32](repeating: 0, count: 8)
        var n: Int32 = 0
        var generate = specdec_generate_default_params()
        generate.max_new_tokens = 4
        generate.stop_at_eos = 0

        func sessionMessage() -> String { String(cString: specdec_session_error_message(session)) }
        func generateStatus(_ prompt: [Int32], cap: Int32 = 8) -> specdec_status {
            prompt.withUnsafeBufferPointer { specdec_generate(session, $0.baseAddress, Int32($0.count), &generate, &out, cap, &n) }
        }
        #expect(generateStatus([1, 2, 3]) == SPECDEC_OK)
        let good = Array(out[0..<Int(n)])

        // Out-of-range ids, in the prompt and in eval.
        #expect(generateStatus([1, Int32(vocab), 3]) == SPECDEC_ERR_TOKEN_OUT_OF_RANGE)
        #expect(sessionMessage().contains("\(vocab)"))
        #expect(generateStatus([-1]) == SPECDEC_ERR_TOKEN_OUT_OF_RANGE)
        let bad: [Int32] = [5, 99999]
        #expect(bad.withUnsafeBufferPointer { specdec_session_eval(session, $0.baseAddress, nil, 2, nil, 0) } == SPECDEC_ERR_TOKEN_OUT_OF_RANGE)
        // A prompt longer than the KV capacity.
        #expect(generateStatus([Int32](repeating: 4, count: 17)) == SPECDEC_ERR_CAPACITY)
        #expect(sessionMessage().contains("capacity"))
        // Undersized buffers.
        #expect(generateStatus([1, 2, 3], cap: 2) == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(n == 4)
        var logits = [Float](repeating: 0, count: vocab)
        let two: [Int32] = [1, 2]
        let before = specdec_session_length(session)
        #expect(two.withUnsafeBufferPointer { specdec_session_eval(session, $0.baseAddress, nil, 2, &logits, vocab) } == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(specdec_session_length(session) == before)
        var ids = [Int32](repeating: 0, count: 1)
        var len: Int32 = 0
        #expect(specdec_session_tokens(session, &ids, 1, &len) == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(len == before)
        // More tokens than max_batch, a bad truncate, a bad struct size, NULL prompt.
        let nine = [Int32](repeating: 3, count: 9)
        #expect(nine.withUnsafeBufferPointer { specdec_session_eval(session, $0.baseAddress, nil, 9, nil, 0) } == SPECDEC_ERR_CAPACITY)
        #expect(specdec_session_truncate(session, before + 1) == SPECDEC_ERR_INVALID_ARGUMENT)
        var broken = generate
        broken.struct_size = 0
        #expect([Int32(1)].withUnsafeBufferPointer { specdec_generate(session, $0.baseAddress, 1, &broken, &out, 8, &n) } == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_generate(session, nil, 1, &generate, &out, 8, &n) == SPECDEC_ERR_INVALID_ARGUMENT)
        var negative = generate
        negative.temperature = -1
        #expect([Int32(1)].withUnsafeBufferPointer { specdec_generate(session, $0.baseAddress, 1, &negative, &out, 8, &n) } == SPECDEC_ERR_INVALID_ARGUMENT)

        // Still usable, with the same result as before.
        #expect(generateStatus([1, 2, 3]) == SPECDEC_OK)
        #expect(Array(out[0..<Int(n)]) == good)
    }

    @Test func failingCallbackIsAStatusAndKeepsTokens() throws {
        let (_, model) = load(fixture)
        defer { specdec_model_destroy(model) }
        var session: OpaquePointer? = nil
        #expect(specdec_session_create(model, nil, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        var generate = specdec_generate_default_params()
        generate.max_new_tokens = 10
        generate.stop_at_eos = 0
        generate.callback = { _, _, index in index == 3 ? -1 : SPECDEC_CALLBACK_CONTINUE }
        var out = [Int32](repeating: 0, count: 10)
        var n: Int32 = 0
        let prompt: [Int32] = [9, 8, 7]
        let status = prompt.withUnsafeBufferPointer { specdec_generate(session, $0.baseAddress, 3, &generate, &out, 10, &n) }
        #expect(status == SPECDEC_ERR_CALLBACK)
        #expect(n == 4)
        generate.callback = { _, _, index in index == 1 ? SPECDEC_CALLBACK_STOP : SPECDEC_CALLBACK_CONTINUE }
        #expect(prompt.withUnsafeBufferPointer { specdec_generate(session, $0.baseAddress, 3, &generate, &out, 10, &n) } == SPECDEC_OK)
        #expect(n == 2)
        var stats = specdec_stats_t()
        stats.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
        #expect(specdec_session_get_stats(session, &stats) == SPECDEC_OK)
        #expect(stats.stop_reason == SPECDEC_STOP_CALLBACK)
        #expect(stats.generated_tokens == 2)
    }

    @Test func versionsAndInfo() throws {
        #expect(specdec_abi_version() == UInt32(SPECDEC_ABI_VERSION))
        #expect(specdec_version_number() == UInt32(SPECDEC_VERSION_MAJOR * 10000 + SPECDEC_VERSION_MINOR * 100 + SPECDEC_VERSION_PATCH))
        let (_, model) = load(fixture)
        defer { specdec_model_destroy(model) }
        var info = specdec_model_info_t()
        info.struct_size = UInt32(MemoryLayout<specdec_model_info_t>.size)
        #expect(specdec_model_get_info(model, &info) == SPECDEC_OK)
        #expect(info.vocab_size == 256 && info.architecture == SPECDEC_ARCH_LLAMA && info.eos_token_id == 2 && info.bos_token_id == 1)
        #expect(String(cString: specdec_model_type(model)) == "llama")
    }
}

extension String {
    func replacingOccurrences(_ old: String, _ new: String) -> String {
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
