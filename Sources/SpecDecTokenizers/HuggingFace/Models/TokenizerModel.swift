/// The model stage of a tokenizer.json pipeline: one pre-tokenized piece to ids.
protocol TokenizerModel: Sendable {
    /// Appends the ids of `word` (UTF-8, or raw bytes for a byte-level BPE) to `ids`.
    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], scratch: EncodeScratch)
    /// Token string of every id (nil for ids the model does not use).
    var idToToken: [String?] { get }
    func tokenToId(_ token: String) -> Int32?
}

/// Working memory for one encode call, reused for every word so the per-word work does
/// not allocate.
final class EncodeScratch {
    var symbols: [Int32] = []
    var ranks: [UInt64] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var heap: [UInt64] = []
    var bytes: [UInt8] = []
    var scores: [Float] = []
    var doubles: [Double] = []
    var starts: [Int32] = []
    var tokens: [Int32] = []

    init() {
        symbols.reserveCapacity(64)
        ranks.reserveCapacity(64)
    }
}
