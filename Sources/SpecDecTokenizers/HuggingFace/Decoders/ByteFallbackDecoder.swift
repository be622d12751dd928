/// `ByteFallback`: runs of `<0xXX>` tokens become their UTF-8 text, or one U+FFFD per byte
/// when the run as a whole is not valid UTF-8.
struct ByteFallbackDecoder: Decoder {
    static func byteValue(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        guard let high = hexDigit(u[3]), let low = hexDigit(u[4]) else { return nil }
        return high << 4 | low
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(tokens.count)
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if UTF8Text.isValid(pending) {
                out.append(String(decoding: pending, as: UTF8.self))
            } else {
                for _ in pending { out.append("\u{FFFD}") }
            }
            pending.removeAll()
        }
        for token in tokens {
            if let b = ByteFallbackDecoder.byteValue(token) {
                pending.append(b)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}
