import CSpecDecABI
import SpecDecTokenizers

/// A tokenizer implemented by the host through `specdec_tokenizer_vtable_t`. Callback
/// failures surface as `TokenizerError`s (decode) or are recorded for the caller (encode,
/// which the protocol does not let throw).
final class HostTokenizer: Tokenizer, @unchecked Sendable {
    let vtable: specdec_tokenizer_vtable_t
    let instance: UnsafeMutableRawPointer?
    let vocabSize: Int
    var specialTokens: SpecialTokenIds { SpecialTokenIds() }
    private(set) var lastEncodeFailure: String?
    /// Set when the host's decode failed (the protocol reports it as a TokenizerError).
    private(set) var lastDecodeFailure: String?

    init(vtable: specdec_tokenizer_vtable_t, instance: UnsafeMutableRawPointer?, vocabSize: Int) {
        self.vtable = vtable
        self.instance = instance
        self.vocabSize = vocabSize
    }

    deinit { vtable.destroy?(instance) }

    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        lastEncodeFailure = nil
        var bytes = Array(text.utf8)
        var ids = [Int32](repeating: 0, count: max(16, bytes.count + 8))
        for _ in 0..<2 {
            var n: Int32 = 0
            let status = bytes.withUnsafeMutableBufferPointer { b in
                ids.withUnsafeMutableBufferPointer { out in
                    b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, b.count)) { chars in
                        vtable.encode(instance, chars, b.count, addSpecialTokens ? 1 : 0, out.baseAddress, Int32(out.count), &n)
                    }
                }
            }
            if status == SPECDEC_ERR_BUFFER_TOO_SMALL, n > Int32(ids.count) {
                ids = [Int32](repeating: 0, count: Int(n))
                continue
            }
            guard status == SPECDEC_OK, n >= 0, Int(n) <= ids.count else {
                lastEncodeFailure = "the host tokenizer's encode failed (returned \(status))"
                return []
            }
            let result = Array(ids[0..<Int(n)])
            if let bad = result.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
                lastEncodeFailure = "the host tokenizer returned id \(bad), outside its vocabulary of \(vocabSize)"
                return []
            }
            return result
        }
        lastEncodeFailure = "the host tokenizer kept asking for a larger buffer"
        _ = bytes.count
        return []
    }

    func decode(_ ids: [Int32], skipSpecialTokens: Bool) throws(TokenizerError) -> String {
        lastDecodeFailure = nil
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
            throw TokenizerError(.idOutOfRange, "token id \(bad) is outside the vocabulary (size \(vocabSize))")
        }
        var buffer = [CChar](repeating: 0, count: max(64, ids.count * 8))
        for _ in 0..<2 {
            var length = 0
            let status = ids.withUnsafeBufferPointer { i in
                buffer.withUnsafeMutableBufferPointer { b in
                    vtable.decode(instance, i.baseAddress, Int32(i.count), skipSpecialTokens ? 1 : 0, b.baseAddress, b.count, &length)
                }
            }
            if status == SPECDEC_ERR_BUFFER_TOO_SMALL, length > buffer.count {
                buffer = [CChar](repeating: 0, count: length)
                continue
            }
            guard status == SPECDEC_OK, length <= buffer.count else {
                let message = "the host tokenizer's decode failed (returned \(status))"
                lastDecodeFailure = message
                throw TokenizerError(.format, message)
            }
            let bytes = buffer[0..<length].map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self)
        }
        lastDecodeFailure = "the host tokenizer kept asking for a larger buffer"
        throw TokenizerError(.format, lastDecodeFailure!)
    }

    func idToPiece(_ id: Int32) -> String? { try? decode([id], skipSpecialTokens: false) }
    func pieceToId(_ piece: String) -> Int32? { nil }
    func isSpecial(_ id: Int32) -> Bool { false }
}
