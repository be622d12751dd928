/// The parts of SentencePiece's ModelProto (sentencepiece_model.proto) that encoding and
/// decoding need, with the proto's defaults.
struct SentencePieceModelProto: Sendable {
    enum PieceType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    struct Piece: Sendable {
        var piece: String = ""
        var score: Float = 0
        var type: PieceType = .normal
    }

    enum ModelType: Int32, Sendable {
        case unigram = 1, bpe = 2, word = 3, character = 4
    }

    struct NormalizerSpec: Sendable {
        var name = ""
        var precompiledCharsMap: [UInt8] = []
        var addDummyPrefix = true
        var removeExtraWhitespaces = true
        var escapeWhitespaces = true
    }

    var pieces: [Piece] = []
    var modelType = ModelType.unigram
    var byteFallback = false
    var treatWhitespaceAsSuffix = false
    var unknownSurface = " \u{2047} "
    var unkId: Int32 = 0
    var bosId: Int32 = 1
    var eosId: Int32 = 2
    var padId: Int32 = -1
    var normalizer = NormalizerSpec()
    var denormalizer: NormalizerSpec?

    init(bytes: [UInt8]) throws(TokenizerError) {
        var reader = ProtobufReader(bytes: bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch field {
            case 1:
                try ProtobufReader.expect(wireType, .lengthDelimited, "pieces")
                var sub = try reader.readLengthDelimited()
                pieces.append(try SentencePieceModelProto.readPiece(&sub))
            case 2:
                try ProtobufReader.expect(wireType, .lengthDelimited, "trainer_spec")
                var sub = try reader.readLengthDelimited()
                try readTrainerSpec(&sub)
            case 3:
                try ProtobufReader.expect(wireType, .lengthDelimited, "normalizer_spec")
                var sub = try reader.readLengthDelimited()
                normalizer = try SentencePieceModelProto.readNormalizerSpec(&sub)
            case 5:
                try ProtobufReader.expect(wireType, .lengthDelimited, "denormalizer_spec")
                var sub = try reader.readLengthDelimited()
                denormalizer = try SentencePieceModelProto.readNormalizerSpec(&sub)
            default:
                try reader.skip(wireType)
            }
        }
        if pieces.isEmpty { throw ProtobufReader.corrupt("no pieces") }
    }

    private static func readPiece(_ reader: inout ProtobufReader) throws(TokenizerError) -> Piece {
        var piece = Piece()
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): piece.piece = try reader.readString()
            case (2, .fixed32): piece.score = try reader.readFloat()
            case (3, .varint):
                let raw = try reader.readInt32()
                guard let type = PieceType(rawValue: raw) else { throw ProtobufReader.corrupt("unknown piece type \(raw)") }
                piece.type = type
            default: try reader.skip(wireType)
            }
        }
        return piece
    }

    private mutating func readTrainerSpec(_ reader: inout ProtobufReader) throws(TokenizerError) {
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (3, .varint):
                let raw = try reader.readInt32()
                guard let type = ModelType(rawValue: raw) else { throw ProtobufReader.corrupt("unknown model type \(raw)") }
                modelType = type
            case (24, .varint): treatWhitespaceAsSuffix = try reader.readBool()
            case (35, .varint): byteFallback = try reader.readBool()
            case (40, .varint): unkId = try reader.readInt32()
            case (41, .varint): bosId = try reader.readInt32()
            case (42, .varint): eosId = try reader.readInt32()
            case (43, .varint): padId = try reader.readInt32()
            case (44, .lengthDelimited): unknownSurface = try reader.readString()
            default: try reader.skip(wireType)
            }
        }
    }

    private static func readNormalizerSpec(_ reader: inout ProtobufReader) throws(TokenizerError) -> NormalizerSpec {
        var spec = NormalizerSpec()
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): spec.name = try reader.readString()
            case (2, .lengthDelimited): spec.precompiledCharsMap = try reader.readBytes()
            case (3, .varint): spec.addDummyPrefix = try reader.readBool()
            case (4, .varint): spec.removeExtraWhitespaces = try reader.readBool()
            case (5, .varint): spec.escapeWhitespaces = try reader.readBool()
            default: try reader.skip(wireType)
            }
        }
        return spec
    }
}
