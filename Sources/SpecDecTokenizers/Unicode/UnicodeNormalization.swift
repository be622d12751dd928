/// The four Unicode normalization forms of UAX #15 over UTF-8 text, with the tables of
/// NormalizationTables (the Unicode version the tokenizers package uses), so that NFC, NFD,
/// NFKC and NFKD give the reference's bytes on every script. The standard library's own
/// normalization follows a newer Unicode version and has no compatibility forms.
enum UnicodeNormalization {
    enum Form: Sendable {
        case nfc, nfd, nfkc, nfkd

        var composes: Bool { self == .nfc || self == .nfkc }
        var compatibility: Bool { self == .nfkc || self == .nfkd }
    }

    // Hangul syllables decompose and compose by arithmetic (Unicode §3.12).
    private static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    private static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    private static let nCount = vCount * tCount, sCount = lCount * vCount * tCount

    /// `text` normalized to `form`; valid UTF-8 in, valid UTF-8 out. ASCII is invariant
    /// under every form, so all-ASCII text comes back untouched.
    static func normalize(_ text: [UInt8], to form: Form) -> [UInt8] {
        if !text.contains(where: { $0 >= 0x80 }) { return text }
        var scalars = decompose(text, compatibility: form.compatibility)
        reorderCanonically(&scalars)
        if form.composes { compose(&scalars) }
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 8)
        for s in scalars { UTF8Text.append(s, to: &out) }
        return out
    }

    static func combiningClass(_ scalar: UInt32) -> UInt8 {
        scalar < 0x300 ? 0 : UnicodeNormalizationData.shared.combiningClass[scalar] ?? 0
    }

    private static func decompose(_ text: [UInt8], compatibility: Bool) -> [UInt32] {
        let data = UnicodeNormalizationData.shared
        let mappings = compatibility ? data.compatibility : data.canonical
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (c, length) = UTF8Text.decode(p, at: i)
                i += length
                if c < 0xA0 {
                    out.append(c)
                } else if c >= sBase, c < sBase + sCount {
                    let index = c - sBase
                    out.append(lBase + index / nCount)
                    out.append(vBase + (index % nCount) / tCount)
                    if index % tCount != 0 { out.append(tBase + index % tCount) }
                } else if let mapping = mappings[c] {
                    out.append(contentsOf: mapping)
                } else {
                    out.append(c)
                }
            }
        }
        return out
    }

    /// Sorts every run of non-starters by combining class, keeping equal classes in order.
    private static func reorderCanonically(_ s: inout [UInt32]) {
        var i = 1
        while i < s.count {
            let cc = combiningClass(s[i])
            if cc != 0 {
                var j = i
                while j > 0 {
                    let previous = combiningClass(s[j - 1])
                    guard previous > cc else { break }
                    s.swapAt(j, j - 1)
                    j -= 1
                }
            }
            i += 1
        }
    }

    private static func composePair(_ first: UInt32, _ second: UInt32) -> UInt32? {
        if first >= lBase, first < lBase + lCount, second >= vBase, second < vBase + vCount {
            return sBase + ((first - lBase) * vCount + (second - vBase)) * tCount
        }
        if first >= sBase, first < sBase + sCount, (first - sBase) % tCount == 0,
           second > tBase, second < tBase + tCount {
            return first + (second - tBase)
        }
        return UnicodeNormalizationData.shared.composition[UInt64(first) << 21 | UInt64(second)]
    }

    /// Canonical composition: each character joins the last starter unless a character of
    /// the same or higher combining class stands between them (it is "blocked").
    private static func compose(_ s: inout [UInt32]) {
        var out: [UInt32] = []
        out.reserveCapacity(s.count)
        var starter: Int?
        var lastClass: UInt8 = 0
        for c in s {
            let cc = combiningClass(c)
            if let at = starter, out.count - 1 == at || lastClass < cc, let composite = composePair(out[at], c) {
                out[at] = composite
                continue
            }
            if cc == 0 { starter = out.count }
            lastClass = cc
            out.append(c)
        }
        s = out
    }
}
