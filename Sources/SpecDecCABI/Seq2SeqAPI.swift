import CSpecDecABI
import SpecDecCore

@_cdecl("specdec_session_set_source")
public func specdec_session_set_source(_ session: OpaquePointer?, _ source: UnsafePointer<Int32>?, _ nSource: Int32) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        guard let source, nSource >= 1 else { throw .invalidArgument("the source must hold at least one token") }
        try handle.seq2seqSession().setSource(UnsafeBufferPointer(start: source, count: Int(nSource)))
    }
}

/// Plain or speculative translation on an encoder-decoder session (`spec` NULL: plain).
func runSeq2Seq(_ handle: SessionHandle, source: UnsafeBufferPointer<Int32>, prefix: UnsafeBufferPointer<Int32>,
                options: GenerationOptions, spec: UnsafePointer<specdec_speculative_params_t>?,
                output: UnsafeMutablePointer<Int32>, onToken: (Int32, Int) -> TokenAction) throws(SpecDecError) -> GenerationResult {
    let session = try handle.seq2seqSession()
    var p = specdec_speculative_default_params()
    p.drafter = SPECDEC_DRAFTER_NONE
    if spec != nil { p = try readParams(spec, defaults: specdec_speculative_default_params(), name: "specdec_speculative_params_t") }
    if p.drafter == SPECDEC_DRAFTER_NONE && prefix.isEmpty {
        let result = session.generate(source: source, options: options, output: output, onToken: onToken)
        return .init(count: result.count, error: result.error)
    }
    // A forced prefix runs through the speculative loop with nothing drafted.
    var speculative = try speculativeOptions(p)
    let drafter: Drafter
    switch p.drafter {
    case SPECDEC_DRAFTER_NONE:
        drafter = NGramDrafter()
        speculative.draftLength = 0
    case SPECDEC_DRAFTER_MODEL:
        guard let draftModel = p.draft_model else { throw .invalidArgument("SPECDEC_DRAFTER_MODEL needs draft_model") }
        drafter = try handle.seq2seqModelDrafter(for: ModelHandle.from(draftModel))
    case SPECDEC_DRAFTER_SPECDEC:
        guard let draftModel = p.draft_model else { throw .invalidArgument("SPECDEC_DRAFTER_SPECDEC needs a Spec-Drafter as draft_model") }
        drafter = try handle.specDecDrafter(for: ModelHandle.from(draftModel), draftLength: Int(p.draft_length))
    default:
        guard let d = try standaloneDrafter(p, suffix: { handle.suffixDrafter }) else {
            throw .invalidArgument("drafter \(p.drafter) is not one of the SPECDEC_DRAFTER_* values")
        }
        drafter = d
    }
    let result = session.generateSpeculative(source: source, prefix: prefix, options: options, speculative: speculative,
                                             drafter: drafter, rule: try acceptanceRule(p), output: output, onToken: onToken)
    return .init(count: result.count, error: result.error)
}

@_cdecl("specdec_generate_seq2seq")
public func specdec_generate_seq2seq(_ session: OpaquePointer?, _ source: UnsafePointer<Int32>?, _ nSource: Int32,
                                     _ prefix: UnsafePointer<Int32>?, _ nPrefix: Int32,
                                     _ params: UnsafePointer<specdec_generate_params_t>?,
                                     _ spec: UnsafePointer<specdec_speculative_params_t>?,
                                     _ outTokens: UnsafeMutablePointer<Int32>?, _ outCap: Int32,
                                     _ outNTokens: UnsafeMutablePointer<Int32>?) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        guard let outNTokens else { throw .invalidArgument("out_n_tokens must not be NULL") }
        outNTokens.pointee = 0
        guard let source, nSource >= 1 else { throw .invalidArgument("the source must hold at least one token") }
        guard nPrefix >= 0, nPrefix == 0 || prefix != nil else { throw .invalidArgument("prefix is NULL or n_prefix is negative") }
        let options = try generationOptions(params, outCap: outCap, outNTokens: outNTokens)
        guard let outTokens else { throw .invalidArgument("out_tokens must not be NULL") }
        let s2s = try handle.seq2seqSession()
        for (i, id) in UnsafeBufferPointer(start: prefix, count: Int(nPrefix)).enumerated() where id < 0 || Int(id) >= s2s.vocabSize {
            throw .init(.tokenOutOfRange, "prefix token \(id) at index \(i) is outside the vocabulary [0, \(s2s.vocabSize))")
        }
        let claimed = try claimCustomDrafter(spec)
        defer { claimed?.release() }
        let result = try runSeq2Seq(handle, source: UnsafeBufferPointer(start: source, count: Int(nSource)),
                                    prefix: UnsafeBufferPointer(start: prefix, count: Int(nPrefix)), options: options, spec: spec,
                                    output: outTokens, onToken: tokenCallback(params))
        outNTokens.pointee = Int32(result.count)
        if let error = result.error { throw error }
    }
}

@_cdecl("specdec_beam_default_params")
public func specdec_beam_default_params() -> specdec_beam_params_t {
    var p = specdec_beam_params_t()
    p.struct_size = UInt32(MemoryLayout<specdec_beam_params_t>.size)
    p.beam_size = 4
    p.max_new_tokens = 128
    p.length_penalty = 1
    p.early_stopping = SPECDEC_EARLY_STOP_HEURISTIC
    p.num_return = 1
    return p
}

/// The C beam parameters (NULL: the defaults) as options.
func beamSearchOptions(_ params: UnsafePointer<specdec_beam_params_t>?) throws(SpecDecError) -> BeamSearchOptions {
    let p = try readParams(params, defaults: specdec_beam_default_params(), name: "specdec_beam_params_t")
    guard let early = BeamEarlyStopping(rawValue: p.early_stopping) else {
        throw .invalidArgument("early_stopping \(p.early_stopping) is not one of the SPECDEC_EARLY_STOP_* values")
    }
    var options = BeamSearchOptions()
    options.beamCount = Int(p.beam_size)
    options.maxNewTokens = Int(p.max_new_tokens)
    options.lengthPenalty = Double(p.length_penalty)
    options.earlyStopping = early
    options.returnCount = Int(p.num_return)
    return options
}

@_cdecl("specdec_beam_search")
public func specdec_beam_search(_ session: OpaquePointer?, _ source: UnsafePointer<Int32>?, _ nSource: Int32,
                                _ params: UnsafePointer<specdec_beam_params_t>?,
                                _ outTokens: UnsafeMutablePointer<Int32>?, _ outLengths: UnsafeMutablePointer<Int32>?,
                                _ outScores: UnsafeMutablePointer<Float>?, _ outEnded: UnsafeMutablePointer<Int32>?,
                                _ outCount: UnsafeMutablePointer<Int32>?) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        guard let outCount else { throw .invalidArgument("out_n_hypotheses must not be NULL") }
        outCount.pointee = 0
        guard let source, nSource >= 1 else { throw .invalidArgument("the source must hold at least one token") }
        guard let outTokens, let outLengths, let outScores, let outEnded else {
            throw .invalidArgument("out_tokens, out_lengths, out_scores and out_ended_with_eos must not be NULL")
        }
        let options = try beamSearchOptions(params)
        let hypotheses = try handle.seq2seqSession().beamSearch(source: UnsafeBufferPointer(start: source, count: Int(nSource)), options: options)
        let width = options.maxNewTokens
        for (i, h) in hypotheses.enumerated() {
            let n = min(width, h.tokens.count)
            for j in 0..<n { outTokens[i * width + j] = h.tokens[j] }
            outLengths[i] = Int32(n)
            outScores[i] = Float(h.score)
            outEnded[i] = h.endedWithEndToken ? 1 : 0
        }
        outCount.pointee = Int32(hypotheses.count)
    }
}
