import CSpecDecABI
import SpecDecCore

@_cdecl("specdec_generate_default_params")
public func specdec_generate_default_params() -> specdec_generate_params_t {
    var p = specdec_generate_params_t()
    p.struct_size = UInt32(MemoryLayout<specdec_generate_params_t>.size)
    p.max_new_tokens = 128
    p.temperature = 0
    p.top_k = 0
    p.top_p = 1
    p.min_p = 0
    p.repetition_penalty = 1
    p.seed = 0
    p.stop_tokens = nil
    p.n_stop_tokens = 0
    p.stop_at_eos = 1
    p.callback = nil
    p.callback_user_data = nil
    return p
}

/// Converts the C generation parameters, checking the output buffer first.
func generationOptions(_ params: UnsafePointer<specdec_generate_params_t>?, outCap: Int32,
                       outNTokens: UnsafeMutablePointer<Int32>) throws(SpecDecError) -> GenerationOptions {
    let options = try generationOptions(params)
    guard Int(outCap) >= options.maxNewTokens else {
        outNTokens.pointee = Int32(options.maxNewTokens)
        throw .init(.bufferTooSmall, "out_tokens holds \(outCap) ids but max_new_tokens is \(options.maxNewTokens)")
    }
    return options
}

/// Converts the C generation parameters (calls whose output is not one token buffer).
func generationOptions(_ params: UnsafePointer<specdec_generate_params_t>?) throws(SpecDecError) -> GenerationOptions {
    let p = try readParams(params, defaults: specdec_generate_default_params(), name: "specdec_generate_params_t")
    guard p.max_new_tokens >= 0 else { throw .invalidArgument("max_new_tokens must be >= 0 (got \(p.max_new_tokens))") }
    guard p.n_stop_tokens >= 0, p.n_stop_tokens == 0 || p.stop_tokens != nil else {
        throw .invalidArgument("stop_tokens is NULL or n_stop_tokens is negative")
    }
    var options = GenerationOptions()
    options.maxNewTokens = Int(p.max_new_tokens)
    options.sampling.temperature = p.temperature
    options.sampling.topK = Int(p.top_k)
    options.sampling.topP = p.top_p
    options.sampling.minP = p.min_p
    options.sampling.repetitionPenalty = p.repetition_penalty
    options.sampling.seed = p.seed
    options.stopTokens = p.n_stop_tokens > 0 ? Array(UnsafeBufferPointer(start: p.stop_tokens, count: Int(p.n_stop_tokens))) : []
    options.stopAtEndOfSequence = p.stop_at_eos != 0
    return options
}

/// The streaming callback the C parameters set, when their struct_size covers it.
func streamingCallback(_ params: UnsafePointer<specdec_generate_params_t>?)
    -> (callback: specdec_token_callback, userData: UnsafeMutableRawPointer?)? {
    guard let params, Int(params.pointee.struct_size) >= MemoryLayout<specdec_generate_params_t>.offset(of: \.callback_user_data)! + 8,
          let callback = params.pointee.callback else { return nil }
    return (callback, params.pointee.callback_user_data)
}

/// The streaming callback of the C parameters as a Swift closure.
func tokenCallback(_ params: UnsafePointer<specdec_generate_params_t>?) -> (Int32, Int) -> TokenAction {
    guard let (callback, userData) = streamingCallback(params) else { return { _, _ in .proceed } }
    return { token, index in
        let answer = callback(userData, token, Int32(index))
        return answer < 0 ? .fail : (answer == SPECDEC_CALLBACK_STOP ? .stop : .proceed)
    }
}

@_cdecl("specdec_generate")
public func specdec_generate(_ session: OpaquePointer?, _ prompt: UnsafePointer<Int32>?, _ nPrompt: Int32,
                             _ params: UnsafePointer<specdec_generate_params_t>?,
                             _ outTokens: UnsafeMutablePointer<Int32>?, _ outCap: Int32,
                             _ outNTokens: UnsafeMutablePointer<Int32>?) -> specdec_status {
    // Plain generation is speculative generation without speculative parameters.
    specdec_generate_speculative(session, prompt, nPrompt, params, nil, outTokens, outCap, outNTokens)
}
