/// A model whose decoder cache a decoding loop drives: a decoder-only `Session` or the
/// decoder side of a `Seq2SeqSession`. The plain loop, the speculative loop (through
/// `SessionVerifier`) and the draft-model drafters all run over this protocol, so the
/// kind of model is a parameter of one path rather than a second copy of it.
public protocol DecodingTarget: AnyObject {
    var length: Int { get }
    var capacity: Int { get }
    var maxBatch: Int { get }
    var vocabSize: Int { get }
    /// Highest position + 1 the decoder accepts.
    var positionLimit: Int { get }
    /// Runs `tokens` from the start of the decoder, keeping whatever cached prefix already
    /// matches them, and writes the logits of the last one.
    func prefill(_ tokens: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError)
    func evaluate(tokens: UnsafeBufferPointer<Int32>, positions: UnsafeBufferPointer<Int32>?,
                  logits: UnsafeMutablePointer<Float>?, rows: LogitRows, batchMask: UnsafePointer<UInt8>?) throws(SpecDecError)
    func commitDraftPath(base: Int, path: [Int])
}

extension DecodingTarget {
    /// Tokens the decoder can still take.
    public var remainingCapacity: Int { min(capacity, positionLimit) - length }

    /// Appends one token and writes its next-token logits.
    func step(_ token: Int32, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        try withUnsafePointer(to: token) { (p) throws(SpecDecError) in
            try evaluate(tokens: UnsafeBufferPointer(start: p, count: 1), positions: nil, logits: logits, rows: .last, batchMask: nil)
        }
    }

    /// Runs `tokens` after what the cache holds, at most `maxBatch` per pass; the logits of
    /// the last one go to `logits`.
    func append(_ tokens: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        var offset = 0
        while offset < tokens.count {
            let n = min(maxBatch, tokens.count - offset)
            try evaluate(tokens: UnsafeBufferPointer(rebasing: tokens[offset..<(offset + n)]), positions: nil,
                         logits: offset + n == tokens.count ? logits : nil, rows: .last, batchMask: nil)
            offset += n
        }
    }
}

extension KVCache {
    /// Slots at the start of the cache that hold `tokens` at consecutive positions; the last
    /// token is never counted (its logits are needed, so it always runs).
    func reusablePrefix(of tokens: UnsafeBufferPointer<Int32>) -> Int {
        var common = 0
        let limit = min(length, tokens.count - 1)
        while common < limit && self.tokens[common] == tokens[common] && positions[common] == Int32(common) { common += 1 }
        return common
    }
}

extension Session: DecodingTarget {
    public var vocabSize: Int { config.vocabSize }
    public var positionLimit: Int { config.contextLength }

    public func commitDraftPath(base: Int, path: [Int]) {
        cache.compact(keeping: path, offset: base + 1, startingAt: base + 1)
    }
}

extension Seq2SeqSession: DecodingTarget {
    public var vocabSize: Int { config.vocabSize }
    public var positionLimit: Int { config.contextLength }

    /// Runs the decoder input (the source stays encoded), keeping the matching cached prefix.
    public func prefill(_ tokens: UnsafeBufferPointer<Int32>, logits: UnsafeMutablePointer<Float>) throws(SpecDecError) {
        try truncate(to: cache.reusablePrefix(of: tokens))
        try append(UnsafeBufferPointer(rebasing: tokens[length...]), logits: logits)
    }

    public func commitDraftPath(base: Int, path: [Int]) {
        cache.compact(keeping: path, offset: base + 1, startingAt: base + 1)
    }
}
