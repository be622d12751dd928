/// `Lowercase`: Unicode lowercase mapping, character by character (as the reference does,
/// so there is no final-sigma rule).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let b = p[i]
                if b < 0x80 {
                    out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
                    i += 1
                    continue
                }
                let (value, length) = UTF8Text.decode(p, at: i)
                if let scalar = Unicode.Scalar(value) {
                    let properties = scalar.properties
                    if properties.changesWhenLowercased {
                        out.append(contentsOf: properties.lowercaseMapping.utf8)
                    } else {
                        out.append(contentsOf: p[i..<i + length])
                    }
                }
                i += length
            }
        }
        return out
    }
}
