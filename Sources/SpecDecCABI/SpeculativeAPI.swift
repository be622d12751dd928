import CSpecDecABI
import SpecDecCore

@_cdecl("specdec_speculative_default_params")
public func specdec_speculative_default_params() -> specdec_speculative_params_t {
    var p = specdec_speculative_params_t()
    p.struct_size = UInt32(MemoryLayout<specdec_speculative_params_t>.size)
    p.drafter = SPECDEC_DRAFTER_NGRAM
    p.acceptance = SPECDEC_ACCEPT_GREEDY
    p.draft_length = 5
    p.adaptive = 0
    p.top_beta = 5
    p.tolerance_tau = 3
    p.ngram_min = 1
    p.ngram_max = 3
    p.draft_model = nil
    p.custom_drafter = nil
    return p
}

/// The acceptance rule the parameters name.
func acceptanceRule(_ p: specdec_speculative_params_t) throws(SpecDecError) -> AcceptanceRule {
    switch p.acceptance {
    case SPECDEC_ACCEPT_GREEDY: return GreedyAcceptance()
    case SPECDEC_ACCEPT_SAMPLE: return SpeculativeSamplingAcceptance()
    case SPECDEC_ACCEPT_TOPK:
        guard p.top_beta >= 1 else { throw .invalidArgument("top_beta must be >= 1 (got \(p.top_beta))") }
        guard p.tolerance_tau.isFinite, p.tolerance_tau >= 0 else { throw .invalidArgument("tolerance_tau must be >= 0 (got \(p.tolerance_tau))") }
        return TopBetaToleranceAcceptance(beta: Int(p.top_beta), tau: p.tolerance_tau)
    default:
        throw .invalidArgument("acceptance \(p.acceptance) is not one of SPECDEC_ACCEPT_GREEDY, _SAMPLE, _TOPK")
    }
}

/// Drafters that need no target-side state.
func standaloneDrafter(_ p: specdec_speculative_params_t, suffix: () -> SuffixDrafter) throws(SpecDecError) -> Drafter? {
    switch p.drafter {
    case SPECDEC_DRAFTER_NGRAM:
        guard p.ngram_min >= 1, p.ngram_max >= p.ngram_min else {
            throw .invalidArgument("ngram_min must be >= 1 and ngram_max >= ngram_min (got \(p.ngram_min), \(p.ngram_max))")
        }
        return NGramDrafter(minN: Int(p.ngram_min), maxN: Int(p.ngram_max))
    case SPECDEC_DRAFTER_SUFFIX:
        return suffix()
    case SPECDEC_DRAFTER_CUSTOM:
        guard let custom = p.custom_drafter else { throw .invalidArgument("SPECDEC_DRAFTER_CUSTOM needs custom_drafter") }
        return DrafterHandle.from(custom).drafter
    default:
        return nil
    }
}

/// Claims the host drafter that `spec` names (SPECDEC_DRAFTER_CUSTOM) for one request, so
/// that two sessions sharing it on two threads, or a callback re-entering with it, get an
/// error instead of interleaving its calls. The caller releases it when the request ends.
func claimCustomDrafter(_ spec: UnsafePointer<specdec_speculative_params_t>?) throws(SpecDecError) -> DrafterHandle? {
    guard spec != nil else { return nil }
    let p = try readParams(spec, defaults: specdec_speculative_default_params(), name: "specdec_speculative_params_t")
    guard p.drafter == SPECDEC_DRAFTER_CUSTOM, let custom = p.custom_drafter else { return nil }
    let handle = DrafterHandle.from(custom)
    guard handle.claim() else {
        throw .invalidArgument("the custom drafter is busy with another request (on another thread, or re-entrantly from a callback); a drafter serves one request at a time")
    }
    return handle
}

func speculativeOptions(_ p: specdec_speculative_params_t) throws(SpecDecError) -> SpeculativeOptions {
    guard p.draft_length >= 0 else { throw .invalidArgument("draft_length must be >= 0 (got \(p.draft_length))") }
    var options = SpeculativeOptions()
    options.draftLength = Int(p.draft_length)
    options.adaptive = p.adaptive != 0
    return options
}

@_cdecl("specdec_generate_speculative")
public func specdec_generate_speculative(_ session: OpaquePointer?, _ prompt: UnsafePointer<Int32>?, _ nPrompt: Int32,
                                         _ params: UnsafePointer<specdec_generate_params_t>?,
                                         _ spec: UnsafePointer<specdec_speculative_params_t>?,
                                         _ outTokens: UnsafeMutablePointer<Int32>?, _ outCap: Int32,
                                         _ outNTokens: UnsafeMutablePointer<Int32>?) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        guard let outNTokens else { throw .invalidArgument("out_n_tokens must not be NULL") }
        outNTokens.pointee = 0
        guard let prompt else { throw .invalidArgument("prompt must not be NULL") }
        guard nPrompt >= 1 else { throw .invalidArgument("n_prompt must be >= 1 (got \(nPrompt))") }
        let options = try generationOptions(params, outCap: outCap, outNTokens: outNTokens)
        guard let outTokens else { throw .invalidArgument("out_tokens must not be NULL") }
        let claimed = try claimCustomDrafter(spec)
        defer { claimed?.release() }
        let result = try runGeneration(handle, prompt: UnsafeBufferPointer(start: prompt, count: Int(nPrompt)), options: options,
                                       spec: spec, output: outTokens, onToken: tokenCallback(params))
        outNTokens.pointee = Int32(result.count)
        if let error = result.error { throw error }
    }
}

/// The Spec-Drafter reads a source sentence: only encoder-decoder targets have one.
let specDecNeedsSource = "SPECDEC_DRAFTER_SPECDEC drafts for encoder-decoder targets: use it with specdec_generate_seq2seq"

/// Plain or speculative generation on a session, as `spec` says (NULL: plain).
func runGeneration(_ handle: SessionHandle, prompt: UnsafeBufferPointer<Int32>, options: GenerationOptions,
                   spec: UnsafePointer<specdec_speculative_params_t>?, output: UnsafeMutablePointer<Int32>,
                   onToken: (Int32, Int) -> TokenAction) throws(SpecDecError) -> GenerationResult {
    let session = try handle.decoderSession()
    guard spec != nil else { return session.generate(prompt: prompt, options: options, output: output, onToken: onToken) }
    let p = try readParams(spec, defaults: specdec_speculative_default_params(), name: "specdec_speculative_params_t")
    let rule = try acceptanceRule(p)
    let speculative = try speculativeOptions(p)
    let drafter: Drafter
    switch p.drafter {
    case SPECDEC_DRAFTER_NONE:
        return session.generate(prompt: prompt, options: options, output: output, onToken: onToken)
    case SPECDEC_DRAFTER_MODEL:
        guard let draftModel = p.draft_model else { throw .invalidArgument("SPECDEC_DRAFTER_MODEL needs draft_model") }
        drafter = try handle.modelDrafter(for: ModelHandle.from(draftModel))
    case SPECDEC_DRAFTER_SPECDEC:
        throw .invalidArgument(specDecNeedsSource)
    default:
        guard let d = try standaloneDrafter(p, suffix: { handle.suffixDrafter }) else {
            throw .invalidArgument("drafter \(p.drafter) is not one of the SPECDEC_DRAFTER_* values")
        }
        drafter = d
    }
    return session.generateSpeculative(prompt: prompt, options: options, speculative: speculative, drafter: drafter,
                                       rule: rule, output: output, onToken: onToken)
}

@_cdecl("specdec_session_acceptance_by_depth")
public func specdec_session_acceptance_by_depth(_ session: OpaquePointer?, _ rates: UnsafeMutablePointer<Double>?, _ cap: Int32,
                                                _ outLen: UnsafeMutablePointer<Int32>?) -> specdec_status {
    readingSession(session) { (handle) throws(SpecDecError) in
        guard let outLen else { throw .invalidArgument("out_len must not be NULL") }
        let values = handle.stats.acceptanceRateByDepth
        outLen.pointee = Int32(values.count)
        guard cap >= 0 else { throw .invalidArgument("cap must be >= 0") }
        guard values.count <= Int(cap) else { throw .init(.bufferTooSmall, "rates holds \(cap) values, \(values.count) needed") }
        guard values.isEmpty || rates != nil else { throw .invalidArgument("rates must not be NULL") }
        for (i, v) in values.enumerated() { rates![i] = v }
    }
}

@_cdecl("specdec_generate_with_verifier")
public func specdec_generate_with_verifier(_ verifier: UnsafePointer<specdec_verifier_vtable_t>?, _ instance: UnsafeMutableRawPointer?,
                                           _ vocabSize: Int32, _ prompt: UnsafePointer<Int32>?, _ nPrompt: Int32,
                                           _ params: UnsafePointer<specdec_generate_params_t>?,
                                           _ spec: UnsafePointer<specdec_speculative_params_t>?,
                                           _ outTokens: UnsafeMutablePointer<Int32>?, _ outCap: Int32,
                                           _ outNTokens: UnsafeMutablePointer<Int32>?,
                                           _ outStats: UnsafeMutablePointer<specdec_stats_t>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let outNTokens else { throw .invalidArgument("out_n_tokens must not be NULL") }
        outNTokens.pointee = 0
        guard let verifier else { throw .invalidArgument("verifier must not be NULL") }
        guard vocabSize >= 1 else { throw .invalidArgument("vocab_size must be >= 1 (got \(vocabSize))") }
        guard let prompt, nPrompt >= 1 else { throw .invalidArgument("the prompt must hold at least one token") }
        let options = try generationOptions(params, outCap: outCap, outNTokens: outNTokens)
        guard let outTokens else { throw .invalidArgument("out_tokens must not be NULL") }
        let required = MemoryLayout<specdec_verifier_vtable_t>.offset(of: \.remaining_capacity)!
        let vtable = try readVTable(verifier, empty: specdec_verifier_vtable_t(), required: required, name: "specdec_verifier_vtable_t")
        guard vtable.prefill != nil, vtable.score != nil, vtable.commit != nil else {
            throw .invalidArgument("the verifier vtable needs prefill, score and commit")
        }
        let p = try readParams(spec, defaults: specdec_speculative_default_params(), name: "specdec_speculative_params_t")
        guard p.drafter != SPECDEC_DRAFTER_MODEL else {
            throw .invalidArgument("SPECDEC_DRAFTER_MODEL needs a session-side target; use NGRAM, SUFFIX, CUSTOM or NONE here")
        }
        guard p.drafter != SPECDEC_DRAFTER_SPECDEC else { throw .invalidArgument(specDecNeedsSource) }
        var speculative = try speculativeOptions(p)
        let drafter: Drafter
        if p.drafter == SPECDEC_DRAFTER_NONE {
            drafter = NGramDrafter()
            speculative.draftLength = 0
        } else {
            guard let d = try standaloneDrafter(p, suffix: { SuffixDrafter() }) else {
                throw .invalidArgument("drafter \(p.drafter) is not one of the SPECDEC_DRAFTER_* values")
            }
            drafter = d
        }
        let claimed = try claimCustomDrafter(spec)
        defer { claimed?.release() }
        let target = HostVerifier(vtable: vtable, instance: instance, vocabSize: Int(vocabSize))
        let generator = try SpeculativeGenerator(verifier: target, drafter: drafter, rule: try acceptanceRule(p),
                                                 maxDraftTokens: min(speculative.draftLength, 64))
        let result = generator.generate(prompt: UnsafeBufferPointer(start: prompt, count: Int(nPrompt)), options: options,
                                        speculative: speculative, eosTokenIds: [], output: outTokens, onToken: tokenCallback(params))
        outNTokens.pointee = Int32(result.count)
        if let outStats { try writeOut(cStats(generator.stats), to: outStats, name: "specdec_stats_t") }
        if let error = result.error { throw error }
    }
}
