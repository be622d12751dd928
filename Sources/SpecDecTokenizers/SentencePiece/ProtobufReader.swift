/// A minimal reader of the protobuf wire format, enough for SentencePiece's ModelProto.
/// Every read is bounds-checked: a truncated or corrupt file is a `.format` error.
struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    private let bytes: [UInt8]
    private var index: Int
    private let end: Int

    init(bytes: [UInt8]) {
        self.init(bytes: bytes, start: 0, end: bytes.count)
    }

    private init(bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.index = start
        self.end = end
    }

    var isAtEnd: Bool { index >= end }

    static func corrupt(_ what: String) -> TokenizerError { TokenizerError.format("corrupt SentencePiece model: \(what)") }

    mutating func readVarint() throws(TokenizerError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw ProtobufReader.corrupt("truncated varint") }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw ProtobufReader.corrupt("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field number and wire type.
    mutating func readTag() throws(TokenizerError) -> (field: Int, wireType: WireType) {
        let tag = try readVarint()
        guard let wireType = WireType(rawValue: tag & 7) else {
            throw ProtobufReader.corrupt("unsupported wire type \(tag & 7)")
        }
        let field = tag >> 3
        guard field > 0, field < 1 << 29 else { throw ProtobufReader.corrupt("invalid field number") }
        return (Int(field), wireType)
    }

    mutating func readLengthDelimited() throws(TokenizerError) -> ProtobufReader {
        let length = try readVarint()
        guard length <= UInt64(end - index) else { throw ProtobufReader.corrupt("field runs past the end of the data") }
        let start = index
        index += Int(length)
        return ProtobufReader(bytes: bytes, start: start, end: index)
    }

    mutating func readBytes() throws(TokenizerError) -> [UInt8] {
        let sub = try readLengthDelimited()
        return Array(bytes[sub.index..<sub.end])
    }

    mutating func readString() throws(TokenizerError) -> String {
        let raw = try readBytes()
        guard let string = String(validating: raw, as: UTF8.self) else { throw ProtobufReader.corrupt("string is not UTF-8") }
        return string
    }

    mutating func readFloat() throws(TokenizerError) -> Float {
        guard end - index >= 4 else { throw ProtobufReader.corrupt("truncated float") }
        var bits: UInt32 = 0
        for k in 0..<4 { bits |= UInt32(bytes[index + k]) << (8 * k) }
        index += 4
        return Float(bitPattern: bits)
    }

    mutating func readInt32() throws(TokenizerError) -> Int32 {
        Int32(truncatingIfNeeded: try readVarint())
    }

    mutating func readBool() throws(TokenizerError) -> Bool {
        try readVarint() != 0
    }

    mutating func skip(_ wireType: WireType) throws(TokenizerError) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64:
            guard end - index >= 8 else { throw ProtobufReader.corrupt("truncated fixed64") }
            index += 8
        case .fixed32:
            guard end - index >= 4 else { throw ProtobufReader.corrupt("truncated fixed32") }
            index += 4
        case .lengthDelimited: _ = try readLengthDelimited()
        }
    }

    /// Reads a field whose wire type must be `expected`, or throws.
    static func expect(_ actual: WireType, _ expected: WireType, _ field: String) throws(TokenizerError) {
        if actual != expected { throw corrupt("field \(field) has the wrong wire type") }
    }
}
