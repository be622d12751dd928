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
