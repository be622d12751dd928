/// `NFC`, `NFD`, `NFKC` and `NFKD`: one of the Unicode normalization forms.
struct UnicodeFormNormalizer: Normalizer {
    let form: UnicodeNormalization.Form

    func normalize(_ text: [UInt8]) -> [UInt8] {
        UnicodeNormalization.normalize(text, to: form)
    }
}
