import CSpecDecABI
import SpecDecCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A session serves one call at a time: a token callback that calls back into its own
/// session, or a second thread, gets SPECDEC_ERR_INVALID_ARGUMENT ("busy") instead of a
/// race, and the call in progress finishes as if nothing had happened.
@Suite struct CABIReentrancyTests {
    let llama = Fixtures.decoder("llama_f32")
    let marian = Seq2SeqFixtures.directory("marian_f32")

    /// What the token callback does, and what it saw.
    final class Reentry {
        let session: OpaquePointer?
        let action: (OpaquePointer?) -> specdec_status
        var statuses: [specdec_status] = []
        var messages: [String] = []
        init(_ session: OpaquePointer?, _ action: @escaping (OpaquePointer?) -> specdec_status) {
            self.session = session
            self.action = action
        }
    }

    static var reenteringCallback: specdec_token_callback { { userData, _, index in
        let reentry = Unmanaged<Reentry>.fromOpaque(userData!).takeUnretainedValue()
        if index % 4 == 1 {
            reentry.statuses.append(reentry.action(reentry.session))
            reentry.messages.append(String(cString: specdec_last_error_message()))
        }
        return SPECDEC_CALLBACK_CONTINUE
    } }

    func params(_ reentry: Reentry, count: Int32) -> specdec_generate_params_t {
        var gp = CABI.generateParams(count)
        gp.callback = CABIReentrancyTests.reenteringCallback
        gp.callback_user_data = Unmanaged.passUnretained(reentry).toOpaque()
        return gp
    }

    static let prompt: [Int32] = [9, 10, 11, 12, 9, 10, 11, 12]

    /// Calls that change the session, each made from inside a callback of the session.
    static var mutatingCalls: [(String, (OpaquePointer?) -> specdec_status)] { [
        ("specdec_generate", { s in CABI.generate(s, prompt, count: 4).0 }),
        ("specdec_generate_speculative", { s in CABI.generate(s, prompt, count: 4, spec: CABI.speculative(SPECDEC_DRAFTER_NGRAM)).0 }),
        ("specdec_session_reset", { specdec_session_reset($0) }),
        ("specdec_session_truncate", { specdec_session_truncate($0, 1) }),
        ("specdec_session_eval", { s in [Int32(3)].withUnsafeBufferPointer { specdec_session_eval(s, $0.baseAddress, nil, 1, nil, 0) } }),
        ("specdec_generate_text", { s in
            var length = 0
            var text = [CChar](repeating: 0, count: 64)
            return specdec_generate_text(s, "hi", nil, nil, nil, &text, 64, &length)
        }),
    ] }

    @Test func reentrantCallsFromTheTokenCallbackAreRefused() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model)
        defer { specdec_session_destroy(session) }
        let reference = try DecoderReference(directory: llama)
        for (name, call) in CABIReentrancyTests.mutatingCalls {
            for spec in [nil, CABI.speculative(SPECDEC_DRAFTER_NGRAM), CABI.speculative(SPECDEC_DRAFTER_MODEL, draftModel: model)] {
                let reentry = Reentry(session, call)
                let outer = CABI.generate(session, reference.promptIds, count: 24, params: params(reentry, count: 24), spec: spec)
                #expect(outer == (SPECDEC_OK, reference.greedyIds), "\(name), drafter \(spec?.drafter ?? -1): \(CABI.sessionMessage(session))")
                #expect(!reentry.statuses.isEmpty && reentry.statuses.allSatisfy { $0 == SPECDEC_ERR_INVALID_ARGUMENT }, "\(name): \(reentry.statuses)")
                #expect(reentry.messages.allSatisfy { $0.contains("busy") }, "\(name): \(reentry.messages)")
                // The refusal does not overwrite the session's own message.
                #expect(!CABI.sessionMessage(session).contains("busy"))
            }
        }
        // Afterwards the session is free again.
        #expect(specdec_session_reset(session) == SPECDEC_OK)
        #expect(CABI.generate(session, reference.promptIds, count: 24) == (SPECDEC_OK, reference.greedyIds))
    }

    @Test func encoderDecoderCallsFromTheTokenCallbackAreRefused() throws {
        let (_, model) = CABI.loadModel(marian)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model, capacity: 64)
        defer { specdec_session_destroy(session) }
        let reference = try Seq2SeqReference(directory: marian)
        let source = reference.sourceIds
        let calls: [(String, (OpaquePointer?) -> specdec_status)] = [
            ("specdec_generate_seq2seq", { s in CABI.translate(s, source, count: 4).0 }),
            ("specdec_session_set_source", { s in specdec_session_set_source(s, [Int32(5), 0], 2) }),
            ("specdec_beam_search", { s in
                var bp = specdec_beam_default_params()
                bp.max_new_tokens = 4
                var tokens = [Int32](repeating: 0, count: 4)
                var length: Int32 = 0, ended: Int32 = 0, count: Int32 = 0
                var score: Float = 0
                return specdec_beam_search(s, source, Int32(source.count), &bp, &tokens, &length, &score, &ended, &count)
            }),
            ("specdec_session_reset", { specdec_session_reset($0) }),
        ]
        for (name, call) in calls {
            let reentry = Reentry(session, call)
            let count = Int32(reference.greedyIds.count)
            let outer = CABI.translate(session, source, count: count, params: params(reentry, count: count), spec: CABI.speculative(SPECDEC_DRAFTER_NGRAM))
            #expect(outer == (SPECDEC_OK, reference.greedyIds), "\(name): \(CABI.sessionMessage(session))")
            #expect(!reentry.statuses.isEmpty && reentry.statuses.allSatisfy { $0 == SPECDEC_ERR_INVALID_ARGUMENT }, "\(name): \(reentry.statuses)")
            #expect(reentry.messages.allSatisfy { $0.contains("busy") }, "\(name)")
        }
    }

    /// The text callback of specdec_generate_text is held to the same rule.
    @Test func callsFromTheTextCallbackAreRefused() throws {
        let dir = TemporaryDirectory()
        SyntheticLlama(vocabSize: 4004).write(to: dir)
        dir.write("tokenizer.json", try MappedFile.readAll(Fixtures.testsDirectory + "/Fixtures/tokenizers/bytelevel-bpe/tokenizer.json"))
        let (_, model) = CABI.loadModel(dir.path)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model, capacity: 64)
        defer { specdec_session_destroy(session) }
        let reentry = Reentry(session) { s in
            let refused = CABI.generate(s, [5, 6], count: 2).0
            var length = 0
            var text = [CChar](repeating: 0, count: 16)
            let read = specdec_session_text(s, &text, 16, &length)
            return refused == SPECDEC_ERR_INVALID_ARGUMENT && read == SPECDEC_OK && specdec_session_length(s) > 0 ? SPECDEC_OK : -1
        }
        var textParams = specdec_text_default_params()
        textParams.skip_special_tokens = 0
        textParams.user_data = Unmanaged.passUnretained(reentry).toOpaque()
        textParams.on_text = { userData, _, _ in
            let reentry = Unmanaged<Reentry>.fromOpaque(userData!).takeUnretainedValue()
            reentry.statuses.append(reentry.action(reentry.session))
            return SPECDEC_CALLBACK_CONTINUE
        }
        var gp = CABI.generateParams(4)
        var out = [CChar](repeating: 0, count: 256)
        var length = 0
        let status = specdec_generate_text(session, "Hello", &gp, nil, &textParams, &out, 256, &length)
        #expect(status == SPECDEC_OK, "\(CABI.sessionMessage(session))")
        #expect(String(cString: out) == String(repeating: "<|endoftext|>", count: 4))
        #expect(reentry.statuses == [SPECDEC_OK, SPECDEC_OK, SPECDEC_OK, SPECDEC_OK])
    }

    /// Getters only read, and work from inside a callback.
    @Test func gettersWorkFromTheTokenCallback() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model)
        defer { specdec_session_destroy(session) }
        let reference = try DecoderReference(directory: llama)
        let reentry = Reentry(session) { s in
            var tokens = [Int32](repeating: 0, count: 128)
            var length: Int32 = 0
            var stats = specdec_stats_t()
            stats.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
            var rates = [Double](repeating: 0, count: 16)
            var text = [CChar](repeating: 0, count: 16)
            var textLength = 0
            let statuses = [specdec_session_tokens(s, &tokens, 128, &length), specdec_session_get_stats(s, &stats),
                            specdec_session_acceptance_by_depth(s, &rates, 16, &length), specdec_session_text(s, &text, 16, &textLength)]
            guard specdec_session_length(s) > 0, specdec_session_capacity(s) == 128,
                  !String(cString: specdec_session_arena_backend(s)).isEmpty else { return -1 }
            _ = specdec_session_error_message(s)
            return statuses.first { $0 != SPECDEC_OK } ?? SPECDEC_OK
        }
        for spec in [nil, CABI.speculative(SPECDEC_DRAFTER_NGRAM)] {
            let outer = CABI.generate(session, reference.promptIds, count: 24, params: params(reentry, count: 24), spec: spec)
            #expect(outer == (SPECDEC_OK, reference.greedyIds))
        }
        #expect(!reentry.statuses.isEmpty && reentry.statuses.allSatisfy { $0 == SPECDEC_OK }, "\(reentry.statuses)")

        let (_, translator) = CABI.loadModel(marian)
        defer { specdec_model_destroy(translator) }
        let (_, seq2seq) = CABI.createSession(translator, capacity: 128)
        defer { specdec_session_destroy(seq2seq) }
        let s2reference = try Seq2SeqReference(directory: marian)
        let s2reentry = Reentry(seq2seq, reentry.action)
        for spec in [nil, CABI.speculative(SPECDEC_DRAFTER_NGRAM)] {
            let count = Int32(s2reference.greedyIds.count)
            let outer = CABI.translate(seq2seq, s2reference.sourceIds, count: count, params: params(s2reentry, count: count), spec: spec)
            #expect(outer == (SPECDEC_OK, s2reference.greedyIds))
        }
        #expect(!s2reentry.statuses.isEmpty && s2reentry.statuses.allSatisfy { $0 == SPECDEC_OK }, "\(s2reentry.statuses)")
    }

    /// Destroying the session from its own callback takes effect when the call returns.
    @Test func sessionDestroyedFromItsCallback() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model)
        let reference = try DecoderReference(directory: llama)
        var destroyed = false
        let reentry = Reentry(session) { s in
            if !destroyed { specdec_session_destroy(s) }
            destroyed = true
            return SPECDEC_OK
        }
        let outer = CABI.generate(session, reference.promptIds, count: 24, params: params(reentry, count: 24))
        #expect(outer == (SPECDEC_OK, reference.greedyIds))
        #expect(destroyed)
    }

    /// Two threads on one session: the second is refused while the first is inside a call.
    @Test func secondThreadOnABusySessionIsRefused() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model)
        defer { specdec_session_destroy(session) }
        let reference = try DecoderReference(directory: llama)
        let rendezvous = Rendezvous()
        let reentry = Reentry(session) { _ in
            // Inside the call: let the other thread try, and wait until it has.
            rendezvous.signal(1)
            rendezvous.wait(for: 2)
            return SPECDEC_OK
        }
        let shared = SharedHandle(pointer: session)
        let withCallback = UnsafeSendable(params(reentry, count: 24))
        let results = runConcurrently(2) { i -> (specdec_status, [Int32], String) in
            if i == 0 {
                let (status, ids) = CABI.generate(shared.pointer, reference.promptIds, count: 24, params: withCallback.value)
                return (status, ids, "")
            }
            rendezvous.wait(for: 1)
            let statuses = [CABI.generate(shared.pointer, CABIReentrancyTests.prompt, count: 4).0, specdec_session_reset(shared.pointer),
                            specdec_session_truncate(shared.pointer, 0)]
            let message = CABI.lastMessage
            rendezvous.signal(2)
            return (statuses.allSatisfy { $0 == SPECDEC_ERR_INVALID_ARGUMENT } ? SPECDEC_ERR_INVALID_ARGUMENT : SPECDEC_OK, [], message)
        }
        #expect(results[0].0 == SPECDEC_OK && results[0].1 == reference.greedyIds)
        #expect(results[1].0 == SPECDEC_ERR_INVALID_ARGUMENT && results[1].2.contains("busy"), "\(results[1])")
        #expect(CABI.generate(session, reference.promptIds, count: 24) == (SPECDEC_OK, reference.greedyIds))
    }
}

/// Wraps a value that a test hands to another thread by design.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A counter two threads step through in turn: `signal(n)` sets it, `wait(for: n)` blocks
/// until it reaches n.
final class Rendezvous: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var stage = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func signal(_ n: Int) {
        pthread_mutex_lock(&mutex)
        stage = max(stage, n)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait(for n: Int) {
        pthread_mutex_lock(&mutex)
        while stage < n { pthread_cond_wait(&condition, &mutex) }
        pthread_mutex_unlock(&mutex)
    }
}
