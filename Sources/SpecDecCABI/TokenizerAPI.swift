import CSpecDecABI
import SpecDecCore
import SpecDecTokenizers

/// What a `specdec_tokenizer_t *` points to.
final class TokenizerHandle {
    let tokenizer: any Tokenizer
    init(_ tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    static func from(_ pointer: OpaquePointer) -> TokenizerHandle {
        Unmanaged<TokenizerHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    func retainedPointer() -> OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }
}

extension SpecDecError {
    /// The C ABI's view of a tokenizer failure.
    init(_ error: TokenizerError) {
        let kind: SpecDecError.Kind
        switch error.kind {
        case .io: kind = .io
        case .format: kind = .format
        case .unsupported: kind = .unsupported
        case .invalidUTF8: kind = .invalidUTF8
        case .idOutOfRange: kind = .tokenOutOfRange
        }
        self.init(kind, error.message)
    }
}

/// A decode failure as a status: a failing host callback is SPECDEC_ERR_CALLBACK.
func decodeFailure(_ tokenizer: any Tokenizer, _ error: TokenizerError) -> SpecDecError {
    if let host = tokenizer as? HostTokenizer, let message = host.lastDecodeFailure { return .init(.callback, message) }
    return SpecDecError(error)
}

/// Copies UTF-8 text into a caller buffer with the (buf, cap, *out_len) convention,
/// NUL-terminating when there is room.
func copyText(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int, length: UnsafeMutablePointer<Int>?) throws(SpecDecError) {
    guard let length else { throw .invalidArgument("out_len must not be NULL") }
    let bytes = Array(text.utf8)
    length.pointee = bytes.count
    guard bytes.count <= capacity else { throw .init(.bufferTooSmall, "buffer holds \(capacity) bytes, \(bytes.count) needed") }
    guard let buffer else {
        if bytes.isEmpty && capacity == 0 { return }
        throw .invalidArgument("buf must not be NULL")
    }
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    if bytes.count < capacity { buffer[bytes.count] = 0 }
}

@_cdecl("specdec_tokenizer_load")
public func specdec_tokenizer_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let out else { return fail(.invalidArgument, "out_tokenizer must not be NULL") }
    out.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let path else { throw .invalidArgument("path must not be NULL") }
        do throws(TokenizerError) {
            out.pointee = TokenizerHandle(try TokenizerLoader.load(path: String(cString: path))).retainedPointer()
        } catch { throw SpecDecError(error) }
    }
}

@_cdecl("specdec_model_get_tokenizer")
public func specdec_model_get_tokenizer(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let out else { return fail(.invalidArgument, "out_tokenizer must not be NULL") }
    out.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let model else { throw .invalidArgument("model must not be NULL") }
        out.pointee = TokenizerHandle(try ModelHandle.from(model).tokenizer()).retainedPointer()
    }
}

@_cdecl("specdec_tokenizer_create")
public func specdec_tokenizer_create(_ vtable: UnsafePointer<specdec_tokenizer_vtable_t>?, _ instance: UnsafeMutableRawPointer?,
                                     _ vocabSize: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let out else { return fail(.invalidArgument, "out_tokenizer must not be NULL") }
    out.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let vtable else { throw .invalidArgument("vtable must not be NULL") }
        guard vocabSize >= 1 else { throw .invalidArgument("vocab_size must be >= 1 (got \(vocabSize))") }
        let required = MemoryLayout<specdec_tokenizer_vtable_t>.offset(of: \.destroy)!
        let table = try readVTable(vtable, empty: specdec_tokenizer_vtable_t(), required: required, name: "specdec_tokenizer_vtable_t")
        guard table.abi_version >= 1, table.abi_version <= UInt32(SPECDEC_PLUGIN_ABI_VERSION) else {
            throw .unsupported("tokenizer vtable has abi_version \(table.abi_version); this library serves 1...\(SPECDEC_PLUGIN_ABI_VERSION)")
        }
        guard table.encode != nil, table.decode != nil else { throw .invalidArgument("the tokenizer vtable needs encode and decode") }
        out.pointee = TokenizerHandle(HostTokenizer(vtable: table, instance: instance, vocabSize: Int(vocabSize))).retainedPointer()
    }
}

@_cdecl("specdec_tokenizer_destroy")
public func specdec_tokenizer_destroy(_ tokenizer: OpaquePointer?) {
    guard let tokenizer else { return }
    Unmanaged<TokenizerHandle>.fromOpaque(UnsafeRawPointer(tokenizer)).release()
}

@_cdecl("specdec_tokenizer_vocab_size")
public func specdec_tokenizer_vocab_size(_ tokenizer: OpaquePointer?) -> Int32 {
    tokenizer.map { Int32(TokenizerHandle.from($0).tokenizer.vocabSize) } ?? -1
}

@_cdecl("specdec_tokenizer_special_token")
public func specdec_tokenizer_special_token(_ tokenizer: OpaquePointer?, _ which: Int32) -> Int32 {
    guard let tokenizer else { return -1 }
    let special = TokenizerHandle.from(tokenizer).tokenizer.specialTokens
    switch which {
    case SPECDEC_TOKEN_BOS: return special.bos ?? -1
    case SPECDEC_TOKEN_EOS: return special.eos ?? -1
    case SPECDEC_TOKEN_PAD: return special.pad ?? -1
    case SPECDEC_TOKEN_UNK: return special.unk ?? -1
    default: return -1
    }
}

/// Encodes C text with any tokenizer, turning host-tokenizer failures into errors.
func encodeText(_ tokenizer: any Tokenizer, _ text: UnsafePointer<CChar>, length: Int, addSpecial: Bool) throws(SpecDecError) -> [Int32] {
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: length)
    let ids: [Int32]
    do throws(TokenizerError) { ids = try tokenizer.encode(utf8: bytes, addSpecialTokens: addSpecial) } catch { throw SpecDecError(error) }
    if let host = tokenizer as? HostTokenizer, let failure = host.lastEncodeFailure { throw .init(.callback, failure) }
    return ids
}

@_cdecl("specdec_tokenize")
public func specdec_tokenize(_ tokenizer: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ length: Int, _ addSpecial: Int32,
                             _ ids: UnsafeMutablePointer<Int32>?, _ cap: Int32, _ outLen: UnsafeMutablePointer<Int32>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let tokenizer else { throw .invalidArgument("tokenizer must not be NULL") }
        guard let text else { throw .invalidArgument("text must not be NULL") }
        let result = try encodeText(TokenizerHandle.from(tokenizer).tokenizer, text, length: length, addSpecial: addSpecial != 0)
        try result.withUnsafeBufferPointer { (r) throws(SpecDecError) in try copyOut(r, to: ids, capacity: cap, length: outLen) }
    }
}

@_cdecl("specdec_detokenize")
public func specdec_detokenize(_ tokenizer: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int32, _ skipSpecial: Int32,
                               _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ outLen: UnsafeMutablePointer<Int>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let tokenizer else { throw .invalidArgument("tokenizer must not be NULL") }
        guard n >= 0, n == 0 || ids != nil else { throw .invalidArgument("ids is NULL or n is negative") }
        let list = n == 0 ? [] : Array(UnsafeBufferPointer(start: ids, count: Int(n)))
        let text: String
        let t = TokenizerHandle.from(tokenizer).tokenizer
        do throws(TokenizerError) { text = try t.decode(list, skipSpecialTokens: skipSpecial != 0) } catch {
            throw decodeFailure(t, error)
        }
        try copyText(text, to: buf, capacity: cap, length: outLen)
    }
}

@_cdecl("specdec_token_to_piece")
public func specdec_token_to_piece(_ tokenizer: OpaquePointer?, _ id: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                   _ outLen: UnsafeMutablePointer<Int>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let tokenizer else { throw .invalidArgument("tokenizer must not be NULL") }
        let t = TokenizerHandle.from(tokenizer).tokenizer
        guard id >= 0, Int(id) < t.vocabSize, let piece = t.idToPiece(id) else {
            throw .init(.tokenOutOfRange, "token id \(id) is outside the vocabulary (size \(t.vocabSize))")
        }
        try copyText(piece, to: buf, capacity: cap, length: outLen)
    }
}

@_cdecl("specdec_piece_to_token")
public func specdec_piece_to_token(_ tokenizer: OpaquePointer?, _ piece: UnsafePointer<CChar>?, _ outId: UnsafeMutablePointer<Int32>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let tokenizer, let piece, let outId else { throw .invalidArgument("tokenizer, piece and out_id must not be NULL") }
        let text = String(cString: piece)
        guard let id = TokenizerHandle.from(tokenizer).tokenizer.pieceToId(text) else {
            throw .invalidArgument("\"\(text)\" is not in the vocabulary")
        }
        outId.pointee = id
    }
}
