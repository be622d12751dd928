/// `BertNormalizer`, in the reference's order: clean-up drops NUL, U+FFFD and control/
/// format/private-use characters (the reference's old tables) and turns whitespace into
/// spaces; CJK ideographs get a space on each side; accents are stripped after NFD
/// (nonspacing marks only); lowercase is per character.
struct BertNormalizer: Normalizer {
    let cleanText: Bool
    let handleChineseCharacters: Bool
    let stripAccents: Bool
    let lowercase: Bool

    init(cleanText: Bool, handleChineseCharacters: Bool, stripAccents: Bool = false, lowercase: Bool) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    static func isChinese(_ c: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(c) || (0x3400...0x4DBF).contains(c) || (0x20000...0x2A6DF).contains(c)
            || (0x2A700...0x2B73F).contains(c) || (0x2B740...0x2B81F).contains(c) || (0x2B920...0x2CEAF).contains(c)
            || (0xF900...0xFAFF).contains(c) || (0x2F800...0x2FA1F).contains(c)
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 8)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (c, length) = UTF8Text.decode(p, at: i)
                defer { i += length }
                if cleanText {
                    let isTabOrNewline = c == 0x09 || c == 0x0A || c == 0x0D
                    if c == 0 || c == 0xFFFD || (!isTabOrNewline && LegacyCategories.isOther(c)) { continue }
                    if isTabOrNewline || CharacterClass.of(c).contains(.whitespace) {
                        out.append(0x20)
                        continue
                    }
                }
                if handleChineseCharacters, BertNormalizer.isChinese(c) {
                    out.append(0x20)
                    out.append(contentsOf: p[i..<i + length])
                    out.append(0x20)
                    continue
                }
                out.append(contentsOf: p[i..<i + length])
            }
        }
        if stripAccents {
            out = UnicodeNormalization.normalize(out, to: .nfd)
            out = StripAccentsNormalizer(isAccent: LegacyCategories.isNonspacingMark).normalize(out)
        }
        return lowercase ? LowercaseNormalizer().normalize(out) : out
    }
}
