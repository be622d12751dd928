/// Text between the normalizer and the model: one byte array and the ranges of the pieces
/// that pre-tokenizers have cut so far. Splitting only rewrites ranges; pre-tokenizers that
/// change text (Metaspace) append the new bytes and point at them.
struct PieceBuffer {
    struct Piece {
        var start: Int
        var end: Int
        /// Whether the piece starts at offset 0 of the original input (Metaspace "first").
        var atOrigin: Bool
    }

    var bytes: [UInt8]
    var pieces: [Piece]

    init(bytes: [UInt8], atOrigin: Bool) {
        self.bytes = bytes
        self.pieces = bytes.isEmpty ? [] : [Piece(start: 0, end: bytes.count, atOrigin: atOrigin)]
    }

    /// Replaces every piece by the ranges `split` reports for it (absolute offsets into
    /// `bytes`); empty ranges are dropped, as HF drops empty splits.
    mutating func split(_ body: (UnsafeBufferPointer<UInt8>, Piece, inout [Piece]) -> Void) {
        var result: [Piece] = []
        result.reserveCapacity(pieces.count * 2)
        bytes.withUnsafeBufferPointer { p in
            for piece in pieces {
                body(p, piece, &result)
            }
        }
        pieces = result
    }
}

extension Array where Element == PieceBuffer.Piece {
    @inline(__always)
    mutating func appendRange(_ start: Int, _ end: Int, origin: PieceBuffer.Piece) {
        if end > start {
            append(PieceBuffer.Piece(start: start, end: end, atOrigin: origin.atOrigin && start == origin.start))
        }
    }
}
