/// `Prepend`: puts a string in front of non-empty text (Llama-2's "▁").
struct PrependNormalizer: Normalizer {
    let prefix: [UInt8]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.isEmpty ? text : prefix + text
    }
}

/// `Replace`: replaces every match of a string or regex pattern.
struct ReplaceNormalizer: Normalizer {
    let pattern: TextPattern
    let content: [UInt8]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        pattern.replace(in: text, with: content)
    }
}

/// `Strip`: removes leading and/or trailing whitespace.
struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { p in
            var start = 0
            var end = p.count
            if left {
                while start < end {
                    let (scalar, length) = UTF8Text.decode(p, at: start)
                    guard CharacterClass.of(scalar).contains(.whitespace) else { break }
                    start += length
                }
            }
            if right {
                while end > start {
                    var s = end - 1
                    while s > start, p[s] & 0xC0 == 0x80 { s -= 1 }
                    let (scalar, _) = UTF8Text.decode(p, at: s)
                    guard CharacterClass.of(scalar).contains(.whitespace) else { break }
                    end = s
                }
            }
            return start == 0 && end == p.count ? text : Array(p[start..<end])
        }
    }
}

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

/// `NFC`: canonical composition, from the standard library's own normalizer.
struct NFCNormalizer: Normalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        // ASCII is already NFC.
        if !text.contains(where: { $0 >= 0x80 }) { return text }
        return String(decoding: text, as: UTF8.self)._nfcCodeUnits
    }
}

/// The `ByteLevel` normalizer: maps every byte to its GPT-2 alphabet character.
struct ByteLevelNormalizer: Normalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 2)
        for b in text { UTF8Text.append(ByteLevelAlphabet.scalar(for: b), to: &out) }
        return out
    }
}
