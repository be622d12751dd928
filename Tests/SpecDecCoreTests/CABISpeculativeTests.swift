import CSpecDecABI
import SpecDecCore
import Testing

/// Speculative decoding through the C ABI: built-in drafters, a host drafter vtable, a
/// host verifier, and the errors misuse gets.
@Suite struct CABISpeculativeTests {
    let fixture = Fixtures.decoder("llama_f32")
    let prompt: [Int32] = [9, 10, 11, 12, 9, 10, 11, 12, 9, 10]

    func withSession(_ directory: String? = nil, _ body: (OpaquePointer?, OpaquePointer?) throws -> Void) throws {
        var model: OpaquePointer? = nil
        #expect((directory ?? fixture).withCString { specdec_model_load($0, nil, &model) } == SPECDEC_OK)
        defer { specdec_model_destroy(model) }
        var session: OpaquePointer? = nil
        var sp = specdec_session_default_params()
        sp.kv_capacity = 128
        #expect(specdec_session_create(model, &sp, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        try body(model, session)
    }

    func generate(_ session: OpaquePointer?, spec: specdec_speculative_params_t?, count: Int32 = 40) -> (specdec_status, [Int32]) {
        var gp = specdec_generate_default_params()
        gp.max_new_tokens = count
        gp.stop_at_eos = 0
        var out = [Int32](repeating: 0, count: Int(count))
        var n: Int32 = 0
        let status: specdec_status = prompt.withUnsafeBufferPointer { p in
            if var s = spec {
                return specdec_generate_speculative(session, p.baseAddress, Int32(p.count), &gp, &s, &out, count, &n)
            }
            return specdec_generate(session, p.baseAddress, Int32(p.count), &gp, &out, count, &n)
        }
        return (status, Array(out[0..<Int(n)]))
    }

    @Test func builtInDraftersReproduceGreedy() throws {
        try withSession { model, session in
            let (_, plain) = generate(session, spec: nil)
            for drafter in [SPECDEC_DRAFTER_NONE, SPECDEC_DRAFTER_NGRAM, SPECDEC_DRAFTER_SUFFIX, SPECDEC_DRAFTER_MODEL] {
                var spec = specdec_speculative_default_params()
                spec.drafter = drafter
                spec.draft_model = model
                let (status, out) = generate(session, spec: spec)
                #expect(status == SPECDEC_OK, "\(String(cString: specdec_session_error_message(session)))")
                #expect(out == plain, "drafter \(drafter)")
                var stats = specdec_stats_t()
                stats.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
                #expect(specdec_session_get_stats(session, &stats) == SPECDEC_OK)
                if drafter == SPECDEC_DRAFTER_MODEL {
                    // The target drafting for itself: every draft token is accepted.
                    #expect(stats.accepted_tokens == stats.drafted_tokens && stats.drafted_tokens > 0)
                    #expect(stats.tokens_per_target_call > 4)
                }
            }
            var rates = [Double](repeating: 0, count: 16)
            var len: Int32 = 0
            #expect(specdec_session_acceptance_by_depth(session, &rates, 16, &len) == SPECDEC_OK)
            #expect(len == 5 && rates[0] == 1)
        }
    }

    @Test func misuseGetsStatuses() throws {
        try withSession { _, session in
            var spec = specdec_speculative_default_params()
            spec.drafter = SPECDEC_DRAFTER_MODEL
            #expect(generate(session, spec: spec).0 == SPECDEC_ERR_INVALID_ARGUMENT)
            spec.drafter = SPECDEC_DRAFTER_CUSTOM
            #expect(generate(session, spec: spec).0 == SPECDEC_ERR_INVALID_ARGUMENT)
            spec = specdec_speculative_default_params()
            spec.draft_length = -1
            #expect(generate(session, spec: spec).0 == SPECDEC_ERR_INVALID_ARGUMENT)
            spec = specdec_speculative_default_params()
            spec.acceptance = SPECDEC_ACCEPT_TOPK
            spec.top_beta = 0
            #expect(generate(session, spec: spec).0 == SPECDEC_ERR_INVALID_ARGUMENT)
            spec = specdec_speculative_default_params()
            spec.drafter = 99
            #expect(generate(session, spec: spec).0 == SPECDEC_ERR_INVALID_ARGUMENT)
            // A draft model with another vocabulary.
            if FileSystem.isDirectory(Fixtures.stories260K) {
                var other: OpaquePointer? = nil
                #expect(Fixtures.stories260K.withCString { specdec_model_load($0, nil, &other) } == SPECDEC_OK)
                defer { specdec_model_destroy(other) }
                spec = specdec_speculative_default_params()
                spec.drafter = SPECDEC_DRAFTER_MODEL
                spec.draft_model = other
                #expect(generate(session, spec: spec).0 == SPECDEC_ERR_INVALID_ARGUMENT)
                #expect(String(cString: specdec_session_error_message(session)).contains("incompatible vocabularies"))
            }
            var drafter: OpaquePointer? = nil
            #expect("/nonexistent/plugin.so".withCString { specdec_drafter_load_plugin($0, nil, &drafter) } == SPECDEC_ERR_IO)
            #expect(specdec_drafter_create(nil, nil, &drafter) == SPECDEC_ERR_INVALID_ARGUMENT)
            #expect(generate(session, spec: nil).0 == SPECDEC_OK)
        }
    }

    /// A host drafter that proposes the true continuation (read from `truth`), or
    /// misbehaves on request.
    struct HostState {
        var truth: [Int32]
        var promptLength: Int
        var mode: Int32   // 0 good, 1 out-of-range id, 2 failure status
        var acceptedCalls = 0
    }

    /// On every decoder fixture: a host drafter through the vtable reproduces greedy.
    @Test(arguments: Fixtures.decoderNames)
    func hostDrafterThroughAVtable(_ name: String) throws {
        try withSession(Fixtures.decoder(name)) { _, session in
            let (_, plain) = generate(session, spec: nil)
            var vtable = specdec_drafter_vtable_t()
            vtable.struct_size = UInt32(MemoryLayout<specdec_drafter_vtable_t>.size)
            vtable.abi_version = UInt32(SPECDEC_PLUGIN_ABI_VERSION)
            vtable.propose = { instance, request, output in
                let state = instance!.assumingMemoryBound(to: HostState.self)
                let r = request!.pointee
                if state.pointee.mode == 2 { return -7 }
                let produced = Int(r.n_tokens) - state.pointee.promptLength
                var n: Int32 = 0
                for i in 0..<Int(r.max_tokens) where produced + i < state.pointee.truth.count {
                    output!.pointee.tokens[i] = state.pointee.mode == 1 ? 1_000_000 : state.pointee.truth[produced + i]
                    output!.pointee.parents[i] = Int32(i - 1)
                    n += 1
                }
                output!.pointee.n_tokens = n
                return 0
            }
            vtable.accepted = { instance, _, _, _ in instance!.assumingMemoryBound(to: HostState.self).pointee.acceptedCalls += 1 }
            var state = HostState(truth: plain, promptLength: prompt.count, mode: 0)
            try withUnsafeMutablePointer(to: &state) { statePointer in
                var drafter: OpaquePointer? = nil
                #expect(specdec_drafter_create(&vtable, statePointer, &drafter) == SPECDEC_OK)
                defer { specdec_drafter_destroy(drafter) }
                var spec = specdec_speculative_default_params()
                spec.drafter = SPECDEC_DRAFTER_CUSTOM
                spec.custom_drafter = drafter
                spec.draft_length = 6
                let (status, out) = generate(session, spec: spec)
                #expect(status == SPECDEC_OK)
                #expect(out == plain)
                #expect(statePointer.pointee.acceptedCalls > 0)
                var stats = specdec_stats_t()
                stats.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
                _ = specdec_session_get_stats(session, &stats)
                #expect(stats.tokens_per_target_call > 5)

                statePointer.pointee.mode = 1
                #expect(generate(session, spec: spec).0 == SPECDEC_ERR_CALLBACK)
                #expect(String(cString: specdec_session_error_message(session)).contains("outside the vocabulary"))
                statePointer.pointee.mode = 2
                #expect(generate(session, spec: spec).0 == SPECDEC_ERR_CALLBACK)
                #expect(generate(session, spec: nil).1 == plain)
            }
        }
    }

    /// A host verifier that is itself a libspecdec session driven through eval/truncate.
    final class SessionBackedVerifier {
        let session: Session
        var base = 0
        init(_ session: Session) { self.session = session }
    }

    @Test func hostVerifierReproducesGreedy() throws {
        let model = try ModelLoader.load(directory: fixture)
        let plain = try Session(model: model, capacity: 128).greedy(prompt, count: 30)
        let backing = SessionBackedVerifier(try Session(model: model, capacity: 128))
        var vtable = specdec_verifier_vtable_t()
        vtable.struct_size = UInt32(MemoryLayout<specdec_verifier_vtable_t>.size)
        vtable.abi_version = UInt32(SPECDEC_PLUGIN_ABI_VERSION)
        vtable.prefill = { instance, tokens, n, logits in
            let v = Unmanaged<SessionBackedVerifier>.fromOpaque(instance!).takeUnretainedValue()
            do { try v.session.prefill(UnsafeBufferPointer(start: tokens, count: Int(n)), logits: logits!) } catch { return -1 }
            return 0
        }
        vtable.score = { instance, tokens, parents, n, logits in
            let v = Unmanaged<SessionBackedVerifier>.fromOpaque(instance!).takeUnretainedValue()
            for i in 1..<Int(n) where parents![i] != Int32(i - 1) { return -2 }  // chains only
            v.base = v.session.length
            do { try v.session.evaluate(tokens: UnsafeBufferPointer(start: tokens, count: Int(n)), logits: logits!) } catch { return -1 }
            return 0
        }
        vtable.commit = { instance, path, n in
            let v = Unmanaged<SessionBackedVerifier>.fromOpaque(instance!).takeUnretainedValue()
            do { try v.session.truncate(to: v.base + 1 + Int(n)) } catch { return -1 }
            return 0
        }
        var gp = specdec_generate_default_params()
        gp.max_new_tokens = 30
        gp.stop_at_eos = 0
        var spec = specdec_speculative_default_params()
        spec.drafter = SPECDEC_DRAFTER_NGRAM
        var out = [Int32](repeating: 0, count: 30)
        var n: Int32 = 0
        var stats = specdec_stats_t()
        stats.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
        let status = prompt.withUnsafeBufferPointer { p in
            specdec_generate_with_verifier(&vtable, Unmanaged.passUnretained(backing).toOpaque(), 256, p.baseAddress, Int32(p.count),
                                           &gp, &spec, &out, 30, &n, &stats)
        }
        #expect(status == SPECDEC_OK, "\(String(cString: specdec_last_error_message()))")
        #expect(out == plain)
        #expect(stats.generated_tokens == 30 && stats.target_calls <= 30)
    }
}
