/// Ids of the special tokens a caller needs to drive generation. `nil` when the tokenizer
/// has no such token.
public struct SpecialTokenIds: Sendable, Equatable {
    public var bos: Int32?
    public var eos: Int32?
    public var pad: Int32?
    public var unk: Int32?

    public init(bos: Int32? = nil, eos: Int32? = nil, pad: Int32? = nil, unk: Int32? = nil) {
        self.bos = bos
        self.eos = eos
        self.pad = pad
        self.unk = unk
    }
}

/// Text to token ids and back. Implementations are immutable after loading, so one
/// instance can be shared by any number of threads.
public protocol Tokenizer: AnyObject, Sendable {
    /// Number of distinct ids (model vocabulary plus added tokens); every valid id is below it.
    var vocabSize: Int { get }
    var specialTokens: SpecialTokenIds { get }

    /// Token ids for `text`. `addSpecialTokens` applies the tokenizer's template (BOS/EOS).
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32]

    /// Text for `ids`. Throws `.idOutOfRange` for an id outside the vocabulary.
    func decode(_ ids: [Int32], skipSpecialTokens: Bool) throws(TokenizerError) -> String

    /// The vocabulary entry of `id` as stored in the tokenizer file (e.g. "Ġthe", "▁the").
    func idToPiece(_ id: Int32) -> String?
    func pieceToId(_ piece: String) -> Int32?

    /// Whether `id` is a special (control) token, which `skipSpecialTokens` leaves out.
    func isSpecial(_ id: Int32) -> Bool
}

extension Tokenizer {
    /// Encodes text that arrives as raw bytes (from C callers), rejecting invalid UTF-8.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, addSpecialTokens: Bool) throws(TokenizerError) -> [Int32] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let offset = UTF8Text.firstInvalidOffset(bytes) ?? 0
            throw TokenizerError(.invalidUTF8, "input is not valid UTF-8 (first bad byte at offset \(offset))")
        }
        return encode(text, addSpecialTokens: addSpecialTokens)
    }

    public func encode(utf8 bytes: [UInt8], addSpecialTokens: Bool) throws(TokenizerError) -> [Int32] {
        var result: Result<[Int32], TokenizerError> = .success([])
        bytes.withUnsafeBufferPointer { buffer in
            do throws(TokenizerError) {
                result = .success(try encode(utf8: buffer, addSpecialTokens: addSpecialTokens))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// A decoder that is fed one id at a time (see `StreamingDecoder`).
    public func makeStreamingDecoder(skipSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }
}
