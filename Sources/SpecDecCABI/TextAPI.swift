import CSpecDecABI
import SpecDecCore
import SpecDecTokenizers
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("specdec_text_default_params")
public func specdec_text_default_params() -> specdec_text_params_t {
    var p = specdec_text_params_t()
    p.struct_size = UInt32(MemoryLayout<specdec_text_params_t>.size)
    p.tokenizer = nil
    p.add_special_tokens = 1
    p.skip_special_tokens = 1
    p.on_text = nil
    p.user_data = nil
    return p
}

@_cdecl("specdec_generate_text")
public func specdec_generate_text(_ session: OpaquePointer?, _ prompt: UnsafePointer<CChar>?,
                                  _ params: UnsafePointer<specdec_generate_params_t>?,
                                  _ spec: UnsafePointer<specdec_speculative_params_t>?,
                                  _ textParams: UnsafePointer<specdec_text_params_t>?,
                                  _ outText: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                  _ outLen: UnsafeMutablePointer<Int>?) -> specdec_status {
    withSession(session) { (handle) throws(SpecDecError) in
        guard let outLen else { throw .invalidArgument("out_len must not be NULL") }
        outLen.pointee = 0
        guard let prompt else { throw .invalidArgument("prompt must not be NULL") }
        let t = try readParams(textParams, defaults: specdec_text_default_params(), name: "specdec_text_params_t")
        // Encoder-decoder models read the prompt as the source; Marian directories have
        // separate source and target tokenizers.
        let isSeq2Seq: Bool
        if case .seq2seq = handle.engine { isSeq2Seq = true } else { isSeq2Seq = false }
        let tokenizer: any Tokenizer
        let outputTokenizer: any Tokenizer
        if let given = t.tokenizer {
            tokenizer = TokenizerHandle.from(given).tokenizer
            outputTokenizer = tokenizer
        } else {
            tokenizer = try handle.modelHandle.tokenizer()
            outputTokenizer = isSeq2Seq ? try handle.modelHandle.targetTokenizer() : tokenizer
        }
        let ids = try encodeText(tokenizer, prompt, length: strlen(prompt), addSpecial: t.add_special_tokens != 0)
        guard !ids.isEmpty else { throw .invalidArgument("the prompt encodes to no tokens") }
        var options = try generationOptions(params)
        options.maxNewTokens = min(options.maxNewTokens, handle.target.capacity)
        var output = [Int32](repeating: 0, count: max(1, options.maxNewTokens))
        var decoder = outputTokenizer.makeStreamingDecoder(skipSpecialTokens: t.skip_special_tokens != 0)
        var text = ""
        var streamFailure: SpecDecError? = nil
        var textCallbackFailed = false
        let userCallback = tokenCallback(params)
        let onText = t.on_text
        let userData = t.user_data
        func deliver(_ piece: String) -> TokenAction {
            text += piece
            guard let onText else { return .proceed }
            var bytes = Array(piece.utf8)
            bytes.append(0)
            let answer = bytes.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { onText(userData, $0, b.count - 1) }
            }
            if answer < 0 { textCallbackFailed = true }
            return answer < 0 ? .fail : (answer == SPECDEC_CALLBACK_STOP ? .stop : .proceed)
        }
        let claimed = try claimCustomDrafter(spec)
        defer { claimed?.release() }
        let result = try ids.withUnsafeBufferPointer { (p) throws(SpecDecError) in
            try output.withUnsafeMutableBufferPointer { (o) throws(SpecDecError) in
                let onToken = { (token: Int32, index: Int) -> TokenAction in
                    let first = userCallback(token, index)
                    if first != .proceed { return first }
                    do throws(TokenizerError) {
                        if let piece = try decoder.step(token) { return deliver(piece) }
                    } catch {
                        streamFailure = decodeFailure(outputTokenizer, error)
                        return .fail
                    }
                    return .proceed
                }
                if isSeq2Seq {
                    return try runSeq2Seq(handle, source: p, prefix: UnsafeBufferPointer(start: nil, count: 0), options: options,
                                          spec: spec, output: o.baseAddress!, onToken: onToken)
                }
                return try runGeneration(handle, prompt: p, options: options, spec: spec, output: o.baseAddress!, onToken: onToken)
            }
        }
        if result.error == nil, streamFailure == nil {
            do throws(TokenizerError) {
                if let rest = try decoder.finish() { _ = deliver(rest) }
            } catch { streamFailure = decodeFailure(outputTokenizer, error) }
        }
        handle.lastText = text
        if let streamFailure { throw streamFailure }
        if textCallbackFailed { throw .init(.callback, "the text callback (on_text) reported a failure") }
        if let error = result.error { throw error }
        try copyText(text, to: outText, capacity: cap, length: outLen)
    }
}

@_cdecl("specdec_session_text")
public func specdec_session_text(_ session: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                 _ outLen: UnsafeMutablePointer<Int>?) -> specdec_status {
    readingSession(session) { (handle) throws(SpecDecError) in try copyText(handle.lastText, to: buf, capacity: cap, length: outLen) }
}
