/// `NFC`: canonical composition, from the standard library's own normalizer.
struct NFCNormalizer: Normalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        // ASCII is already NFC.
        if !text.contains(where: { $0 >= 0x80 }) { return text }
        return String(decoding: text, as: UTF8.self)._nfcCodeUnits
    }
}
