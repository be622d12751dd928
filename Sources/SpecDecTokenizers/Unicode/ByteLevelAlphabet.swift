/// GPT-2's reversible map between bytes and printable characters: printable Latin-1 bytes
/// stand for themselves, the other 68 bytes are shifted to U+0100 and up in byte order.
enum ByteLevelAlphabet {
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var shifted: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = 256 + shifted
                shifted += 1
            }
        }
        return table
    }()

    /// Inverse map indexed by scalar value (all mapped scalars are below 0x144); -1 where
    /// the scalar is not in the alphabet.
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x200)
        for b in 0..<256 { table[Int(byteToScalar[b])] = Int16(b) }
        return table
    }()

    @inline(__always)
    static func scalar(for byte: UInt8) -> UInt32 { byteToScalar[Int(byte)] }

    @inline(__always)
    static func byte(for scalar: UInt32) -> UInt8? {
        guard scalar < 0x200 else { return nil }
        let b = scalarToByte[Int(scalar)]
        return b >= 0 ? UInt8(b) : nil
    }

    /// The raw bytes a vocabulary entry stands for, or nil if it has a character outside
    /// the alphabet (such entries can never be produced by byte-level pre-tokenization).
    static func unmap(_ piece: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.utf8.count)
        for scalar in piece.unicodeScalars {
            guard let b = byte(for: scalar.value) else { return nil }
            bytes.append(b)
        }
        return bytes
    }
}
