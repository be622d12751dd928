import SpecDecCore
import SpecDecTokenizers
import Synchronization

/// What a `specdec_session_t *` points to. It keeps its model alive, so destroying the
/// model before its sessions cannot leave them dangling.
final class SessionHandle {
    enum Engine {
        case decoder(Session)
        case seq2seq(Seq2SeqSession)
    }

    let engine: Engine
    let modelHandle: ModelHandle
    let backendName: OwnedCString
    var errorMessage = OwnedCString("")
    /// Set while a call that changes the session runs (see `withSession`).
    let inUse = Atomic<Bool>(false)
    /// Text of the last specdec_generate_text call.
    var lastText = ""
    /// Drafters that live as long as the session: the suffix tree remembers earlier
    /// requests, and a draft model keeps its own session and cache.
    private var suffix: SuffixDrafter?
    private var modelDrafters: [ObjectIdentifier: (model: ModelHandle, drafter: ModelDrafter)] = [:]

    init(engine: Engine, modelHandle: ModelHandle) {
        self.engine = engine
        self.modelHandle = modelHandle
        switch engine {
        case .decoder(let s): backendName = OwnedCString(s.arena.backend.name)
        case .seq2seq(let s): backendName = OwnedCString(s.arena.backend.name)
        }
    }

    /// The decoder-only session, or an error naming the call to use instead.
    func decoderSession() throws(SpecDecError) -> Session {
        guard case .decoder(let s) = engine else {
            throw .invalidArgument("this session holds an encoder-decoder model: use specdec_generate_seq2seq (with a source)")
        }
        return s
    }

    func seq2seqSession() throws(SpecDecError) -> Seq2SeqSession {
        guard case .seq2seq(let s) = engine else {
            throw .invalidArgument("this session holds a decoder-only model, which takes no source: use specdec_generate")
        }
        return s
    }

    /// The decoder cache either way (eval, truncate and friends work on both).
    var target: any DecodingTarget {
        switch engine { case .decoder(let s): return s; case .seq2seq(let s): return s }
    }
    var maxSequences: Int {
        switch engine { case .decoder(let s): return s.maxSequences; case .seq2seq(let s): return s.maxSequences }
    }
    var stats: GenerationStats {
        switch engine { case .decoder(let s): return s.stats; case .seq2seq(let s): return s.stats }
    }
    var cacheTokens: UnsafeBufferPointer<Int32> {
        switch engine {
        case .decoder(let s): return UnsafeBufferPointer(start: s.cache.tokens, count: s.length)
        case .seq2seq(let s): return UnsafeBufferPointer(start: s.cache.tokens, count: s.length)
        }
    }
    func reset() {
        switch engine { case .decoder(let s): s.reset(); case .seq2seq(let s): s.reset() }
    }
    func truncate(to length: Int) throws(SpecDecError) {
        switch engine { case .decoder(let s): try s.truncate(to: length); case .seq2seq(let s): try s.truncate(to: length) }
    }

    private var seq2seqDrafters: [ObjectIdentifier: (model: ModelHandle, drafter: Seq2SeqModelDrafter)] = [:]

    /// An encoder-decoder draft model for an encoder-decoder target, kept with the session.
    func seq2seqModelDrafter(for draft: ModelHandle) throws(SpecDecError) -> Seq2SeqModelDrafter {
        if let existing = seq2seqDrafters[ObjectIdentifier(draft)] { return existing.drafter }
        let session = try seq2seqSession()
        guard case .encoderDecoder(let model) = draft.loaded else {
            throw .invalidArgument("the draft model for an encoder-decoder target must be an encoder-decoder model too")
        }
        let made = try Seq2SeqModelDrafter(model: model, target: session.config, capacity: session.capacity,
                                           threads: session.pool.threadCount, backend: session.arena.backend)
        seq2seqDrafters[ObjectIdentifier(draft)] = (draft, made)
        return made
    }

    private var specDecDrafters: [ObjectIdentifier: (model: ModelHandle, drafter: SpecDecDrafter)] = [:]

    /// SpecDec's drafter for this encoder-decoder session, kept with the session.
    func specDecDrafter(for draft: ModelHandle, draftLength: Int) throws(SpecDecError) -> SpecDecDrafter {
        if let existing = specDecDrafters[ObjectIdentifier(draft)], existing.drafter.model.config.blockSize == draftLength {
            return existing.drafter
        }
        let session = try seq2seqSession()
        guard case .specDrafter(let model) = draft.loaded else {
            throw .invalidArgument("SPECDEC_DRAFTER_SPECDEC needs a Spec-Drafter (model_type specdec_drafter) as draft_model")
        }
        let made = try SpecDecDrafter(model: model, target: session.config, requestedLength: draftLength, pool: session.pool)
        specDecDrafters[ObjectIdentifier(draft)] = (draft, made)
        return made
    }

    var suffixDrafter: SuffixDrafter {
        if let suffix { return suffix }
        let made = SuffixDrafter()
        suffix = made
        return made
    }

    func modelDrafter(for draft: ModelHandle) throws(SpecDecError) -> ModelDrafter {
        // The cached entry keeps its model handle alive, so the identifier cannot be reused.
        if let existing = modelDrafters[ObjectIdentifier(draft)] { return existing.drafter }
        let session = try decoderSession()
        let made = try ModelDrafter(model: try draft.decoderModel(for: "a draft model"), target: session.config,
                                    capacity: session.capacity, threads: session.pool.threadCount, backend: session.arena.backend)
        modelDrafters[ObjectIdentifier(draft)] = (draft, made)
        return made
    }

    static func from(_ pointer: OpaquePointer) -> SessionHandle {
        Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}
