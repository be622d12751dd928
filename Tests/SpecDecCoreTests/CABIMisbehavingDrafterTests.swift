import CSpecDecABI
import SpecDecCore
import Testing

/// Host drafters (the vtable of specdec_plugin.h) that break their contract get a status
/// and a message, never a crash, and the session stays usable.
@Suite struct CABIMisbehavingDrafterTests {
    let llama = Fixtures.decoder("llama_f32")
    let marian = Seq2SeqFixtures.directory("marian_f32")

    /// The ways a drafter can lie about its proposal.
    enum Fault: String, CaseIterable, Sendable {
        case idAtVocabularySize, negativeId, moreThanAsked, countOfInt32Max, negativeCount, failingStatus,
             parentAfterItsChild, parentBelowMinusOne, failingBegin
        case nanProbabilities, negativeProbabilities, zeroProbabilities, infiniteProbabilities

        /// Faults in the probabilities are tolerated (they only steer acceptance); the rest fail the call.
        var failsTheCall: Bool { ![.nanProbabilities, .negativeProbabilities, .zeroProbabilities, .infiniteProbabilities].contains(self) }
        var message: String {
            switch self {
            case .idAtVocabularySize, .negativeId: return "outside the vocabulary"
            case .moreThanAsked, .countOfInt32Max: return "more than"
            case .negativeCount: return "negative"
            case .failingStatus: return "returned -7"
            case .parentAfterItsChild, .parentBelowMinusOne: return "parent"
            case .failingBegin: return "begin"
            default: return ""
            }
        }
    }

    /// A drafter that proposes the known continuation, and from its second proposal on
    /// commits `fault`.
    final class LyingDrafter {
        let truth: [Int32]
        let promptLength: Int
        var fault: Fault?
        var proposals = 0
        init(truth: [Int32], promptLength: Int, fault: Fault?) {
            self.truth = truth
            self.promptLength = promptLength
            self.fault = fault
        }

        func propose(_ r: specdec_draft_request_t, _ out: inout specdec_draft_output_t) -> Int32 {
            proposals += 1
            let produced = Int(r.n_tokens) - promptLength
            var n: Int32 = 0
            for i in 0..<Int(r.max_tokens) where produced + i >= 0 && produced + i < truth.count {
                out.tokens[i] = truth[produced + i]
                out.parents[i] = Int32(i - 1)
                n += 1
            }
            out.n_tokens = n
            guard let fault, proposals >= 2 else { return 0 }
            if r.want_probabilities == 1, let q = out.probabilities {
                let vocab = Int(r.vocab_size)
                let value: Float
                switch fault {
                case .nanProbabilities: value = .nan
                case .negativeProbabilities: value = -1
                case .zeroProbabilities: value = 0
                case .infiniteProbabilities: value = .infinity
                default: value = 1 / Float(vocab)
                }
                for i in 0..<(Int(n) * vocab) { q[i] = value }
                out.has_probabilities = 1
            }
            switch fault {
            case .idAtVocabularySize: out.tokens[0] = r.vocab_size
            case .negativeId: out.tokens[Int(max(n, 1)) - 1] = -3
            case .moreThanAsked: out.n_tokens = r.max_tokens + 1
            case .countOfInt32Max: out.n_tokens = .max
            case .negativeCount: out.n_tokens = -2
            case .failingStatus: return -7
            case .parentAfterItsChild: out.parents[0] = max(n - 1, 1)
            case .parentBelowMinusOne: out.parents[Int(max(n, 1)) - 1] = -5
            default: break
            }
            if out.n_tokens == 0 && fault.failsTheCall && fault != .failingBegin { out.n_tokens = 1 }
            return 0
        }
    }

    static func vtable() -> specdec_drafter_vtable_t {
        var vtable = specdec_drafter_vtable_t()
        vtable.struct_size = UInt32(MemoryLayout<specdec_drafter_vtable_t>.size)
        vtable.abi_version = UInt32(SPECDEC_PLUGIN_ABI_VERSION)
        vtable.propose = { instance, request, output in
            Unmanaged<LyingDrafter>.fromOpaque(instance!).takeUnretainedValue().propose(request!.pointee, &output!.pointee)
        }
        vtable.begin = { instance, _ in
            let drafter = Unmanaged<LyingDrafter>.fromOpaque(instance!).takeUnretainedValue()
            return drafter.fault == .failingBegin ? -1 : 0
        }
        return vtable
    }

    /// Runs `generate` with `drafter` wrapped through specdec_drafter_create.
    func withDrafter<R>(_ drafter: LyingDrafter, _ body: (OpaquePointer?) -> R) -> R {
        var table = CABIMisbehavingDrafterTests.vtable()
        var handle: OpaquePointer? = nil
        let status = specdec_drafter_create(&table, Unmanaged.passUnretained(drafter).toOpaque(), &handle)
        precondition(status == SPECDEC_OK)
        defer { specdec_drafter_destroy(handle) }
        return body(handle)
    }

    @Test(arguments: Fault.allCases)
    func decoderSessionSurvives(_ fault: Fault) throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model)
        defer { specdec_session_destroy(session) }
        let prompt: [Int32] = [9, 10, 11, 12, 9, 10, 11, 12]
        let plain = CABI.generate(session, prompt, count: 32)
        #expect(plain.0 == SPECDEC_OK)
        let liar = LyingDrafter(truth: plain.1, promptLength: prompt.count, fault: fault)
        withDrafter(liar) { handle in
            var spec = CABI.speculative(SPECDEC_DRAFTER_CUSTOM)
            spec.custom_drafter = handle
            spec.draft_length = 4
            var sampled = CABI.generateParams(32)
            sampled.temperature = 0.7
            sampled.seed = 3
            for (params, acceptance) in [(CABI.generateParams(32), SPECDEC_ACCEPT_GREEDY), (sampled, SPECDEC_ACCEPT_SAMPLE)] {
                spec.acceptance = acceptance
                liar.proposals = 0
                let (status, ids) = CABI.generate(session, prompt, count: 32, params: params, spec: spec)
                let message = CABI.sessionMessage(session)
                if fault.failsTheCall {
                    #expect(status == SPECDEC_ERR_CALLBACK, "\(fault), acceptance \(acceptance): \(status) \(message)")
                    #expect(message.contains(fault.message), "\(fault): \(message)")
                    // What came before the lie is kept, and is what the target wanted.
                    if acceptance == SPECDEC_ACCEPT_GREEDY { #expect(Array(plain.1.prefix(ids.count)) == ids, "\(fault)") }
                } else {
                    #expect(status == SPECDEC_OK, "\(fault), acceptance \(acceptance): \(message)")
                    #expect(ids.count == 32 && ids.allSatisfy { $0 >= 0 && $0 < 256 })
                    if acceptance == SPECDEC_ACCEPT_GREEDY { #expect(ids == plain.1) }
                }
                #expect(CABI.generate(session, prompt, count: 32) == plain, "\(fault): plain generation afterwards")
            }
            liar.fault = nil
            #expect(CABI.generate(session, prompt, count: 32, spec: spec) == plain, "\(fault): an honest drafter afterwards")
        }
    }

    @Test(arguments: [Fault.idAtVocabularySize, .countOfInt32Max, .negativeCount, .failingStatus, .parentAfterItsChild, .failingBegin])
    func encoderDecoderSessionSurvives(_ fault: Fault) throws {
        let (_, model) = CABI.loadModel(marian)
        defer { specdec_model_destroy(model) }
        let (_, session) = CABI.createSession(model, capacity: 64)
        defer { specdec_session_destroy(session) }
        let source = try Seq2SeqReference(directory: marian).sourceIds
        let plain = CABI.translate(session, source, count: 16)
        let liar = LyingDrafter(truth: plain.1, promptLength: 1, fault: fault)
        withDrafter(liar) { handle in
            var spec = CABI.speculative(SPECDEC_DRAFTER_CUSTOM)
            spec.custom_drafter = handle
            let (status, ids) = CABI.translate(session, source, count: 16, spec: spec)
            #expect(status == SPECDEC_ERR_CALLBACK, "\(fault): \(CABI.sessionMessage(session))")
            #expect(CABI.sessionMessage(session).contains(fault.message))
            #expect(Array(plain.1.prefix(ids.count)) == ids)
            #expect(CABI.translate(session, source, count: 16) == plain)
        }
    }

    @Test func malformedVtablesAreRefused() {
        var drafter: OpaquePointer? = nil
        let good = CABIMisbehavingDrafterTests.vtable()
        func create(_ edit: (inout specdec_drafter_vtable_t) -> Void) -> specdec_status {
            var table = good
            edit(&table)
            let status = specdec_drafter_create(&table, nil, &drafter)
            specdec_drafter_destroy(drafter)
            return status
        }
        #expect(create { $0.struct_size = 4 } == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(create { $0.struct_size = 15 } == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(CABI.lastMessage.contains("struct_size"))
        #expect(create { $0.abi_version = 0 } == SPECDEC_ERR_UNSUPPORTED)
        #expect(create { $0.abi_version = UInt32(SPECDEC_PLUGIN_ABI_VERSION) + 1 } == SPECDEC_ERR_UNSUPPORTED)
        #expect(CABI.lastMessage.contains("abi_version"))
        #expect(create { $0.abi_version = .max } == SPECDEC_ERR_UNSUPPORTED)
        #expect(create { $0.propose = nil } == SPECDEC_ERR_INVALID_ARGUMENT)
        #expect(specdec_drafter_create(nil, nil, &drafter) == SPECDEC_ERR_INVALID_ARGUMENT)
        var table = good
        #expect(specdec_drafter_create(&table, nil, nil) == SPECDEC_ERR_INVALID_ARGUMENT)
        // A table that stops before the optional members: they count as absent.
        #expect(create { $0.struct_size = UInt32(MemoryLayout<specdec_drafter_vtable_t>.offset(of: \.begin)!) } == SPECDEC_OK)
    }

    /// One drafter shared by two sessions on two threads: the second request is refused
    /// while the first is using it.
    @Test func drafterSharedByTwoThreadsAtOnce() throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let prompt: [Int32] = [9, 10, 11, 12, 9, 10, 11, 12]
        let (_, probe) = CABI.createSession(model)
        let plain = CABI.generate(probe, prompt, count: 24)
        specdec_session_destroy(probe)
        let rendezvous = Rendezvous()
        /// Holds its first proposal until the other thread has tried the drafter.
        final class Blocking: @unchecked Sendable {
            let liar: LyingDrafter
            let rendezvous: Rendezvous
            var first = true
            init(_ liar: LyingDrafter, _ rendezvous: Rendezvous) { self.liar = liar; self.rendezvous = rendezvous }
        }
        let blocking = Blocking(LyingDrafter(truth: plain.1, promptLength: prompt.count, fault: nil), rendezvous)
        var table = CABIMisbehavingDrafterTests.vtable()
        table.propose = { instance, request, output in
            let b = Unmanaged<Blocking>.fromOpaque(instance!).takeUnretainedValue()
            if b.first {
                b.first = false
                b.rendezvous.signal(1)
                b.rendezvous.wait(for: 2)
            }
            return b.liar.propose(request!.pointee, &output!.pointee)
        }
        table.begin = nil
        var handle: OpaquePointer? = nil
        #expect(specdec_drafter_create(&table, Unmanaged.passUnretained(blocking).toOpaque(), &handle) == SPECDEC_OK)
        defer { specdec_drafter_destroy(handle) }
        let shared = SharedHandle(pointer: model), drafter = SharedHandle(pointer: handle)
        let results = runConcurrently(2) { i -> (specdec_status, [Int32], String) in
            let (_, session) = CABI.createSession(shared.pointer)
            defer { specdec_session_destroy(session) }
            var spec = CABI.speculative(SPECDEC_DRAFTER_CUSTOM)
            spec.custom_drafter = drafter.pointer
            if i == 1 { rendezvous.wait(for: 1) }
            let (status, ids) = CABI.generate(session, prompt, count: 24, spec: spec)
            let message = CABI.sessionMessage(session)
            if i == 1 { rendezvous.signal(2) }
            return (status, ids, message)
        }
        #expect(results[0].0 == SPECDEC_OK && results[0].1 == plain.1)
        #expect(results[1].0 == SPECDEC_ERR_INVALID_ARGUMENT && results[1].2.contains("busy"), "\(results[1])")
    }
}
