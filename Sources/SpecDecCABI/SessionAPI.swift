import CSpecDecABI
import SpecDecCore

@_cdecl("specdec_session_default_params")
public func specdec_session_default_params() -> specdec_session_params_t {
    specdec_session_params_t(struct_size: UInt32(MemoryLayout<specdec_session_params_t>.size),
                             kv_capacity: 0, n_threads: 0, arena_backend: SPECDEC_ARENA_AUTO, max_batch: 64,
                             max_sequences: 1)
}

@_cdecl("specdec_session_create")
public func specdec_session_create(_ model: OpaquePointer?, _ params: UnsafePointer<specdec_session_params_t>?,
                                   _ outSession: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let outSession else { return fail(.invalidArgument, "out_session must not be NULL") }
    outSession.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let model else { throw .invalidArgument("model must not be NULL") }
        let p = try readParams(params, defaults: specdec_session_default_params(), name: "specdec_session_params_t")
        guard let backend = ArenaBackend(rawValue: p.arena_backend) else {
            throw .invalidArgument("arena_backend \(p.arena_backend) is not one of SPECDEC_ARENA_AUTO, _JEMALLOC, _MMAP")
        }
        let modelHandle = ModelHandle.from(model)
        let engine: SessionHandle.Engine
        switch modelHandle.loaded {
        case .decoder(let m):
            engine = .decoder(try Session(model: m, capacity: Int(p.kv_capacity), threads: Int(p.n_threads),
                                          backend: backend, maxBatch: Int(p.max_batch), maxSequences: Int(p.max_sequences)))
        case .encoderDecoder(let m):
            engine = .seq2seq(try Seq2SeqSession(model: m, capacity: Int(p.kv_capacity), threads: Int(p.n_threads),
                                                 backend: backend, maxBatch: Int(p.max_batch), maxSequences: Int(p.max_sequences)))
        case .specDrafter:
            throw .invalidArgument("a Spec-Drafter drafts for an encoder-decoder target (SPECDEC_DRAFTER_SPECDEC); it takes no session of its own")
        }
        let handle = SessionHandle(engine: engine, modelHandle: modelHandle)
        outSession.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("specdec_session_destroy")
public func specdec_session_destroy(_ session: OpaquePointer?) {
    guard let session else { return }
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release()
}

/// Runs `body` with the session behind a non-NULL handle, recording failures on it. A
/// session serves one such call at a time: another one made meanwhile (by a callback of the
/// call in progress, or by a second thread) is refused instead of racing with it. That
/// refusal is recorded for the calling thread only; the session's message belongs to the
/// call in progress.
func withSession(_ pointer: OpaquePointer?, _ body: (SessionHandle) throws(SpecDecError) -> Void) -> specdec_status {
    guard let pointer else { return fail(.invalidArgument, "session must not be NULL") }
    let handle = SessionHandle.from(pointer)
    guard handle.inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
        return fail(.invalidArgument, "the session is busy: another call on it is in progress (a re-entrant call from one of its callbacks, or a second thread); a session serves one call at a time")
    }
    // The handle stays alive until the call returns, even if a callback destroys the session.
    return withExtendedLifetime(handle) {
        defer { handle.inUse.store(false, ordering: .releasing) }
        return guarded(session: handle) { () throws(SpecDecError) in try body(handle) }
    }
}

/// Runs `body` for a call that only reads the session (callbacks may use these while a
/// call on the session is in progress).
func readingSession(_ pointer: OpaquePointer?, _ body: (SessionHandle) throws(SpecDecError) -> Void) -> specdec_status {
    guard let pointer else { return fail(.invalidArgument, "session must not be NULL") }
    let handle = SessionHandle.from(pointer)
    return guarded(session: handle) { () throws(SpecDecError) in try body(handle) }
}

@_cdecl("specdec_session_reset")
public func specdec_session_reset(_ session: OpaquePointer?) -> specdec_status {
    withSession(session) { $0.reset() }
}

@_cdecl("specdec_session_length")
public func specdec_session_length(_ session: OpaquePointer?) -> Int32 {
    session.map { Int32(SessionHandle.from($0).target.length) } ?? -1
}

@_cdecl("specdec_session_capacity")
public func specdec_session_capacity(_ session: OpaquePointer?) -> Int32 {
    session.map { Int32(SessionHandle.from($0).target.capacity) } ?? -1
}

private let noBackend: StaticString = ""

@_cdecl("specdec_session_arena_backend")
public func specdec_session_arena_backend(_ session: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let session else { return UnsafeRawPointer(noBackend.utf8Start).assumingMemoryBound(to: CChar.self) }
    return UnsafePointer(SessionHandle.from(session).backendName.pointer)
}

@_cdecl("specdec_session_error_message")
public func specdec_session_error_message(_ session: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let session else { return UnsafeRawPointer(noBackend.utf8Start).assumingMemoryBound(to: CChar.self) }
    return UnsafePointer(SessionHandle.from(session).errorMessage.pointer)
}

@_cdecl("specdec_session_tokens")
public func specdec_session_tokens(_ session: OpaquePointer?, _ buf: UnsafeMutablePointer<Int32>?, _ cap: Int32,
                                   _ outLen: UnsafeMutablePointer<Int32>?) -> specdec_status {
    readingSession(session) { (handle) throws(SpecDecError) in
        try copyOut(handle.cacheTokens, to: buf, capacity: cap, length: outLen)
    }
}

@_cdecl("specdec_session_truncate")
public func specdec_session_truncate(_ session: OpaquePointer?, _ length: Int32) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in try handle.truncate(to: Int(length)) }
}

@_cdecl("specdec_session_eval")
public func specdec_session_eval(_ session: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ positions: UnsafePointer<Int32>?,
                                 _ nTokens: Int32, _ logits: UnsafeMutablePointer<Float>?, _ logitsCap: Int) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        let s = handle.target
        guard nTokens >= 1 else { throw .invalidArgument("n_tokens must be >= 1 (got \(nTokens))") }
        guard let tokens else { throw .invalidArgument("tokens must not be NULL") }
        let n = Int(nTokens)
        if logits != nil {
            let needed = n * s.vocabSize
            guard logitsCap >= needed else {
                throw .init(.bufferTooSmall, "logits buffer holds \(logitsCap) floats, \(needed) needed (n_tokens × vocab_size)")
            }
        }
        if case .seq2seq(let s2s) = handle.engine, s2s.sourceLength == 0 {
            throw .invalidArgument("no source is set: call specdec_session_set_source first")
        }
        try s.evaluate(tokens: UnsafeBufferPointer(start: tokens, count: n),
                       positions: positions.map { UnsafeBufferPointer(start: $0, count: n) },
                       logits: logits, rows: .all, batchMask: nil)
    }
}

@_cdecl("specdec_session_get_stats")
public func specdec_session_get_stats(_ session: OpaquePointer?, _ outStats: UnsafeMutablePointer<specdec_stats_t>?) -> specdec_status {
    readingSession(session) { (handle) throws(SpecDecError) in
        guard let outStats else { throw .invalidArgument("out_stats must not be NULL") }
        let out = cStats(handle.stats)
        try writeOut(out, to: outStats, name: "specdec_stats_t")
    }
}

/// The C view of a request's statistics.
func cStats(_ st: GenerationStats) -> specdec_stats_t {
    var out = specdec_stats_t()
    out.struct_size = UInt32(MemoryLayout<specdec_stats_t>.size)
    out.prompt_tokens = Int32(st.promptTokens)
    out.reused_tokens = Int32(st.reusedTokens)
    out.generated_tokens = Int32(st.generatedTokens)
    out.stop_reason = st.stopReason.rawValue
    out.prefill_seconds = st.prefillSeconds
    out.decode_seconds = st.decodeSeconds
    out.prefill_tokens_per_second = st.prefillTokensPerSecond
    out.decode_tokens_per_second = st.decodeTokensPerSecond
    out.target_calls = Int32(st.targetCalls)
    out.drafted_tokens = Int32(st.draftedTokens)
    out.accepted_tokens = Int32(st.acceptedTokens)
    out.tokens_per_target_call = st.tokensPerTargetCall
    out.draft_seconds = st.draftSeconds
    out.verify_seconds = st.verifySeconds
    out.sample_seconds = st.sampleSeconds
    return out
}
