/// UTF-8 helpers on raw bytes. The encoders work on bytes rather than `String` because
/// byte ranges are cheap to slice and hash, and every reference tokenizer is byte-based.
enum UTF8Text {
    /// Length of the sequence that starts with `lead` in valid UTF-8 (1 for a stray byte).
    @inline(__always)
    static func sequenceLength(_ lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead < 0xE0 { return lead < 0xC0 ? 1 : 2 }
        return lead < 0xF0 ? 3 : 4
    }

    /// Decodes the scalar at `i` of valid UTF-8 and returns it with its length.
    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (scalar: UInt32, length: Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        let end = p.count
        if b0 < 0xE0 {
            guard i + 1 < end else { return (0xFFFD, 1) }
            return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2)
        }
        if b0 < 0xF0 {
            guard i + 2 < end else { return (0xFFFD, 1) }
            return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        guard i + 3 < end else { return (0xFFFD, 1) }
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
    }

    static func append(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Length of the well-formed sequence at `i`, or 0 when the bytes there are ill-formed
    /// (Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
    static func validSequenceLength(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let n = p.count
        let b0 = p[i]
        if b0 < 0x80 { return 1 }
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let length: Int
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + 1 < n, p[i + 1] >= low, p[i + 1] <= high else { return 0 }
        for k in 2..<length {
            guard i + k < n, p[i + k] & 0xC0 == 0x80 else { return 0 }
        }
        return length
    }

    /// Number of bytes of the maximal subpart of an ill-formed sequence at `i` (at least 1),
    /// which one U+FFFD replaces (the W3C/Unicode practice that Rust's from_utf8_lossy and
    /// Python's "replace" error handler follow).
    static func maximalSubpartLength(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let n = p.count
        let b0 = p[i]
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let length: Int
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 1
        }
        guard i + 1 < n, p[i + 1] >= low, p[i + 1] <= high else { return 1 }
        var k = 2
        while k < length, i + k < n, p[i + k] & 0xC0 == 0x80 { k += 1 }
        return k
    }

    static func firstInvalidOffset(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < p.count {
            let length = validSequenceLength(p, at: i)
            if length == 0 { return i }
            i += length
        }
        return nil
    }

    /// Decodes bytes, replacing each maximal ill-formed subpart with U+FFFD.
    static func decodeLossy(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { p in
            if firstInvalidOffset(p) == nil { return String(decoding: p, as: UTF8.self) }
            var repaired: [UInt8] = []
            repaired.reserveCapacity(p.count + 8)
            var i = 0
            while i < p.count {
                let length = validSequenceLength(p, at: i)
                if length > 0 {
                    for k in 0..<length { repaired.append(p[i + k]) }
                    i += length
                } else {
                    repaired.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    i += maximalSubpartLength(p, at: i)
                }
            }
            return String(decoding: repaired, as: UTF8.self)
        }
    }

    static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { firstInvalidOffset($0) == nil }
    }
}

extension UTF8Text {
    /// Rewrites valid UTF-8 character by character: `transform` gets each scalar and its
    /// bytes and appends what replaces it (nothing drops it).
    static func transformScalars(_ text: [UInt8],
                                 _ transform: (_ scalar: UInt32, _ bytes: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (c, length) = decode(p, at: i)
                transform(c, UnsafeBufferPointer(rebasing: p[i..<i + length]), &out)
                i += length
            }
        }
        return out
    }
}
