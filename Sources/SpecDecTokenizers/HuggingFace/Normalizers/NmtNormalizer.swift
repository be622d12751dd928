/// `Nmt`: the clean-up of SentencePiece's NMT rule set: drops ASCII control characters and
/// turns the other whitespace-like characters (tabs and line breaks, zero-width spaces and
/// joiners, line/paragraph separators, "▁", BOM, U+FFFD) into plain spaces.
struct NmtNormalizer: Normalizer {
    static func isDropped(_ c: UInt32) -> Bool {
        (0x01...0x08).contains(c) || c == 0x0B || (0x0E...0x1F).contains(c) || c == 0x7F || c == 0x8F || c == 0x9F
    }

    static func becomesSpace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B...0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD: return true
        default: return false
        }
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        UTF8Text.transformScalars(text) { c, bytes, out in
            if NmtNormalizer.becomesSpace(c) {
                out.append(0x20)
            } else if !NmtNormalizer.isDropped(c) {
                out.append(contentsOf: bytes)
            }
        }
    }
}
