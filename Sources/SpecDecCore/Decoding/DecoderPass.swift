/// What a decoder pass checks before any work, so that a failing call changes nothing, and
/// the positions it runs at. The decoder-only and encoder-decoder sessions share it and
/// differ only in the words of their messages.
struct DecoderPass {
    let vocabSize: Int
    let contextLength: Int
    let maxBatch: Int
    /// "vocabulary" or "target vocabulary"; "cache" or "decoder cache"; "context length"
    /// or "decoder context length".
    let vocabularyName: String
    let cacheName: String
    let lengthName: String

    func validate(tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>?) throws(SpecDecError) {
        for (i, id) in tokens.enumerated() where id < 0 || Int(id) >= vocabSize {
            throw .init(.tokenOutOfRange, "token id \(id) at index \(i) is outside the \(vocabularyName) [0, \(vocabSize))")
        }
        if let positions {
            for (i, p) in positions.enumerated() where p < 0 || Int(p) >= contextLength {
                throw .invalidArgument("position \(p) at index \(i) is outside [0, \(contextLength))")
            }
        }
    }

    /// Checks `tokens` (and `positions`) against the cache and returns the positions to run
    /// them at: the given ones, or consecutive ones after the cache written to `scratch`.
    func positions(for tokens: UnsafeBufferPointer<Int32>, given positions: UnsafeBufferPointer<Int32>?, cache: KVCache,
                   scratch: UnsafeMutablePointer<Int32>) throws(SpecDecError) -> UnsafePointer<Int32> {
        let n = tokens.count
        guard n >= 1 else { throw .invalidArgument("at least one token is needed") }
        guard n <= maxBatch else {
            throw .init(.capacity, "\(n) tokens exceed the session's max_batch of \(maxBatch) per evaluation")
        }
        guard n <= cache.freeSlots else {
            throw .init(.capacity, "\(n) more tokens do not fit: the \(cacheName) holds \(cache.length) of \(cache.capacity)")
        }
        if let positions, positions.count != n { throw .invalidArgument("positions has \(positions.count) entries for \(n) tokens") }
        try validate(tokens: tokens, positions: positions)
        if let positions { return positions.baseAddress! }
        guard cache.length + n <= contextLength else {
            throw .init(.capacity, "positions beyond the model's \(lengthName) \(contextLength)")
        }
        for i in 0..<n { scratch[i] = Int32(cache.length + i) }
        return UnsafePointer(scratch)
    }

    func truncate(_ cache: inout KVCache, to newLength: Int) throws(SpecDecError) {
        guard newLength >= 0, newLength <= cache.length else {
            throw .invalidArgument("cannot truncate to \(newLength): the \(cacheName) holds \(cache.length) tokens")
        }
        cache.truncate(to: newLength)
    }
}
