/// The pieces of a SentencePiece model, indexed the way model_interface.cc indexes them:
/// normal, user-defined and unused pieces are what encoding can produce; control, unknown
/// and byte pieces are reserved and only reachable by id or exact spelling.
struct SentencePieceVocabulary: Sendable {
    let pieces: [SentencePieceModelProto.Piece]
    /// Whether some spelling is both a normal and a reserved piece (PieceToId then prefers
    /// the reserved one, so ids known from merges must be looked up again).
    let normalOverlapsReserved: Bool
    /// Scores and types by id, flat: the encoders read them in their inner loops.
    let scores: [Float]
    let types: [SentencePieceModelProto.PieceType]
    /// Normal, user-defined and unused pieces by UTF-8 spelling.
    let normalPieces: ByteStringMap
    /// Control, unknown and byte pieces by spelling.
    let reservedPieces: [String: Int32]
    private let reservedBytes: ByteStringMap
    let userDefined: ByteTrie
    let unknownId: Int32
    /// Id of `<0xXX>` for each byte, when the model has byte fallback.
    let byteIds: [Int32]?

    init(_ proto: SentencePieceModelProto) throws(TokenizerError) {
        var normal = ByteStringMap(capacity: proto.pieces.count)
        var reserved: [String: Int32] = [:]
        var userDefined = ByteTrie()
        var unknownId: Int32 = -1
        var byteIds = [Int32](repeating: -1, count: 256)
        for (index, piece) in proto.pieces.enumerated() {
            let id = Int32(index)
            guard !piece.piece.isEmpty else { throw TokenizerError.format("SentencePiece model: piece \(index) is empty") }
            switch piece.type {
            case .normal, .userDefined, .unused:
                guard normal.insertIfAbsent(Array(piece.piece.utf8), id) else {
                    throw TokenizerError.format("SentencePiece model: piece \"\(piece.piece)\" is defined twice")
                }
                if piece.type == .userDefined { userDefined.insert(Array(piece.piece.utf8), value: id) }
            case .control, .unknown, .byte:
                guard reserved[piece.piece] == nil else {
                    throw TokenizerError.format("SentencePiece model: piece \"\(piece.piece)\" is defined twice")
                }
                reserved[piece.piece] = id
                if piece.type == .unknown {
                    guard unknownId < 0 else { throw TokenizerError.format("SentencePiece model: unk is defined twice") }
                    unknownId = id
                }
                if piece.type == .byte {
                    guard proto.byteFallback else {
                        throw TokenizerError.format("SentencePiece model: byte piece \(piece.piece) found although byte_fallback is false")
                    }
                    guard let b = ByteFallbackDecoder.byteValue(piece.piece) else {
                        throw TokenizerError.format("SentencePiece model: byte piece \(piece.piece) is invalid")
                    }
                    byteIds[Int(b)] = id
                }
            }
        }
        guard unknownId >= 0 else { throw TokenizerError.format("SentencePiece model: unk is not defined") }
        if proto.byteFallback, byteIds.contains(-1) {
            throw TokenizerError.format("SentencePiece model: there are not 256 byte pieces although byte_fallback is true")
        }
        self.pieces = proto.pieces
        self.scores = proto.pieces.map(\.score)
        self.types = proto.pieces.map(\.type)
        self.normalPieces = normal
        self.reservedPieces = reserved
        var reservedBytes = ByteStringMap(capacity: reserved.count)
        for (piece, id) in reserved { reservedBytes.set(Array(piece.utf8), id) }
        self.reservedBytes = reservedBytes
        self.normalOverlapsReserved = reserved.keys.contains { normal.get($0) != nil }
        self.userDefined = userDefined
        self.unknownId = unknownId
        self.byteIds = proto.byteFallback ? byteIds : nil
    }

    @inline(__always)
    func type(_ id: Int32) -> SentencePieceModelProto.PieceType { types[Int(id)] }

    /// PieceToId: reserved pieces first, then normal ones, else unk.
    func id(of piece: UnsafeBufferPointer<UInt8>) -> Int32 {
        if let id = normalPieces.get(piece), !normalOverlapsReserved { return id }
        if let id = reservedBytes.get(piece) { return id }
        return normalPieces.get(piece) ?? unknownId
    }

    func exactId(of piece: String) -> Int32? {
        reservedPieces[piece] ?? normalPieces.get(piece)
    }
}

/// A SentencePiece segmentation model: normalized text to (start, end, id) pieces.
protocol SentencePieceModel: Sendable {
    func encode(_ normalized: UnsafeBufferPointer<UInt8>, into pieces: inout [SentencePieceSpan])
}

struct SentencePieceSpan {
    var start: Int
    var end: Int
    var id: Int32
}

/// SentencePiece's OneCharLen: the sequence length its lead byte announces.
@inline(__always)
func sentencePieceCharLength(_ lead: UInt8) -> Int {
    switch lead >> 4 {
    case 0xC, 0xD: return 2
    case 0xE: return 3
    case 0xF: return 4
    default: return 1
    }
}
