import CSpecDecABI
import SpecDecCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Handles cross threads as plain addresses; the library's contract makes them shareable.
struct SharedHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
}

/// One model shared by several threads, each with its own session, gives every thread
/// what a single-threaded run gives; a model outlives its last session.
@Suite struct CABIConcurrencyTests {
    static let threadCounts = [2, 4, 8]
    let llama = Fixtures.decoder("llama_f32")
    let marian = Seq2SeqFixtures.directory("marian_f32")

    /// A draft model for `fixture`: its weights scaled, so that it proposes tokens the target
    /// sometimes rejects (the rollback path runs too).
    static func perturbedCopy(of fixture: String) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: fixture, weights: { SafetensorsEditing.mappingFloats($0) { $0 * 0.8 } })
        return dir
    }

    /// Plain, n-gram and draft-model runs of one prompt on one session.
    static func decoderRuns(_ session: OpaquePointer?, _ prompt: [Int32], draft: OpaquePointer?) -> [[Int32]] {
        [nil, CABI.speculative(SPECDEC_DRAFTER_NGRAM), CABI.speculative(SPECDEC_DRAFTER_MODEL, draftModel: draft)].map { spec in
            let (status, ids) = CABI.generate(session, prompt, count: 16, spec: spec)
            return status == SPECDEC_OK ? ids : [-Int32(status)]
        }
    }

    static func seq2seqRuns(_ session: OpaquePointer?, _ source: [Int32], draft: OpaquePointer?) -> [[Int32]] {
        [nil, CABI.speculative(SPECDEC_DRAFTER_NGRAM), CABI.speculative(SPECDEC_DRAFTER_MODEL, draftModel: draft)].map { spec in
            let (status, ids) = CABI.translate(session, source, count: 16, spec: spec)
            return status == SPECDEC_OK ? ids : [-Int32(status)]
        }
    }

    /// Runs `work` for each of `threads` threads, every thread on a session of its own,
    /// three times over, and compares each result with the single-threaded one.
    func expectSameAsSingleThreaded(_ threads: Int, model: OpaquePointer?, capacity: Int32,
                                    _ work: @escaping @Sendable (OpaquePointer?, Int) -> [[Int32]]) {
        let expected: [[[Int32]]] = (0..<threads).map { i in
            let (_, session) = CABI.createSession(model, capacity: capacity)
            defer { specdec_session_destroy(session) }
            return work(session, i)
        }
        #expect(expected.allSatisfy { runs in runs.allSatisfy { $0.count > 1 } }, "\(expected)")
        let shared = SharedHandle(pointer: model)
        for repetition in 0..<3 {
            let results = runConcurrently(threads) { i -> [[Int32]] in
                let (status, session) = CABI.createSession(shared.pointer, capacity: capacity)
                guard status == SPECDEC_OK else { return [[-Int32(status)]] }
                defer { specdec_session_destroy(session) }
                return work(session, i)
            }
            for i in 0..<threads {
                #expect(results[i] == expected[i], "repetition \(repetition), thread \(i) of \(threads)")
            }
        }
    }

    @Test(arguments: threadCounts)
    func decoderModelSharedByThreads(_ threads: Int) throws {
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let draftDirectory = try CABIConcurrencyTests.perturbedCopy(of: llama)
        let (_, draft) = CABI.loadModel(draftDirectory.path)
        defer { specdec_model_destroy(draft) }
        let prompt = try DecoderReference(directory: llama).promptIds
        let sharedDraft = SharedHandle(pointer: draft)
        expectSameAsSingleThreaded(threads, model: model, capacity: 96) { session, i in
            // Each thread its own prompt, repetitive enough for the n-gram drafter.
            let mine = [Int32(20 + i)] + prompt.prefix(6) + prompt.prefix(6)
            return CABIConcurrencyTests.decoderRuns(session, mine, draft: sharedDraft.pointer)
        }
    }

    @Test(arguments: threadCounts)
    func encoderDecoderModelSharedByThreads(_ threads: Int) throws {
        let (_, model) = CABI.loadModel(marian)
        defer { specdec_model_destroy(model) }
        let draftDirectory = try CABIConcurrencyTests.perturbedCopy(of: marian)
        let (_, draft) = CABI.loadModel(draftDirectory.path)
        defer { specdec_model_destroy(draft) }
        let source = try Seq2SeqReference(directory: marian).sourceIds
        let sharedDraft = SharedHandle(pointer: draft)
        expectSameAsSingleThreaded(threads, model: model, capacity: 32) { session, i in
            let mine = Array(source.dropLast()) + [Int32(30 + i), source.last!]
            return CABIConcurrencyTests.seq2seqRuns(session, mine, draft: sharedDraft.pointer)
        }
    }

    /// The model's tokenizer is loaded on first use; threads asking for it at once all get it.
    @Test func tokenizerLoadedByThreadsAtOnce() throws {
        let dir = TemporaryDirectory()
        SyntheticLlama(vocabSize: 4004).write(to: dir)
        dir.write("tokenizer.json", try MappedFile.readAll(Fixtures.testsDirectory + "/Fixtures/tokenizers/bytelevel-bpe/tokenizer.json"))
        for _ in 0..<5 {
            let (status, model) = CABI.loadModel(dir.path)
            #expect(status == SPECDEC_OK, "\(CABI.lastMessage)")
            let shared = SharedHandle(pointer: model)
            let texts = runConcurrently(8) { i -> String in
                if i % 2 == 0 {
                    var tokenizer: OpaquePointer? = nil
                    guard specdec_model_get_tokenizer(shared.pointer, &tokenizer) == SPECDEC_OK else { return "no tokenizer" }
                    defer { specdec_tokenizer_destroy(tokenizer) }
                    return String(specdec_tokenizer_vocab_size(tokenizer))
                }
                let (_, session) = CABI.createSession(shared.pointer, capacity: 64)
                defer { specdec_session_destroy(session) }
                var gp = CABI.generateParams(4)
                var text = [CChar](repeating: 0, count: 256)
                var length = 0
                let status = specdec_generate_text(session, "Hello there", &gp, nil, nil, &text, 256, &length)
                return status == SPECDEC_OK ? "text \(length)" : "status \(status): \(CABI.sessionMessage(session))"
            }
            #expect(Set(texts.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)) == ["4004"], "\(texts)")
            #expect(Set(texts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)).count == 1, "\(texts)")
            #expect(texts[1].hasPrefix("text "), "\(texts)")
            specdec_model_destroy(model)
        }
    }

    /// specdec_model_destroy with sessions alive defers: the sessions keep working, and the
    /// model's memory (here its mapped weights) goes with the last of them.
    @Test func modelDestroyedWhileSessionsLive() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: llama)
        let weights = dir.path + "/model.safetensors"
        let (_, model) = CABI.loadModel(dir.path)
        let sessions = (0..<3).map { _ in SharedHandle(pointer: CABI.createSession(model).1) }
        #expect(ProcessProbe.maps(weights))
        specdec_model_destroy(model)
        #expect(ProcessProbe.maps(weights))
        let reference = try DecoderReference(directory: llama)
        let results = runConcurrently(3) { i in CABI.generate(sessions[i].pointer, reference.promptIds, count: 24).1 }
        #expect(results.allSatisfy { $0 == reference.greedyIds })
        specdec_session_destroy(sessions[0].pointer)
        specdec_session_destroy(sessions[1].pointer)
        #expect(ProcessProbe.maps(weights))
        #expect(CABI.generate(sessions[2].pointer, reference.promptIds, count: 24) == (SPECDEC_OK, reference.greedyIds))
        specdec_session_destroy(sessions[2].pointer)
        #expect(!ProcessProbe.maps(weights))
    }

    /// A draft model destroyed after a session used it stays with that session's drafter.
    @Test func draftModelDestroyedWhileASessionHoldsItsDrafter() throws {
        let dir = TemporaryDirectory()
        try dir.copyModel(from: Fixtures.decoder("llama_f16"))
        let (_, model) = CABI.loadModel(llama)
        defer { specdec_model_destroy(model) }
        let (_, draft) = CABI.loadModel(dir.path)
        let (_, session) = CABI.createSession(model)
        let reference = try DecoderReference(directory: llama)
        let spec = CABI.speculative(SPECDEC_DRAFTER_MODEL, draftModel: draft)
        #expect(CABI.generate(session, reference.promptIds, count: 24, spec: spec) == (SPECDEC_OK, reference.greedyIds))
        specdec_model_destroy(draft)
        #expect(ProcessProbe.maps(dir.path + "/model.safetensors"))
        #expect(CABI.generate(session, reference.promptIds, count: 24) == (SPECDEC_OK, reference.greedyIds))
        specdec_session_destroy(session)
        #expect(!ProcessProbe.maps(dir.path + "/model.safetensors"))
    }
}
