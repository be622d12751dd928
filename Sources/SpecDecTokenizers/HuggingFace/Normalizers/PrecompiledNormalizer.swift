/// tokenizer.json's `Precompiled` normalizer (T5, XLM-R, ALBERT conversions): SentencePiece's
/// charsmap applied the way the Rust port does it, grapheme cluster by grapheme cluster:
/// a cluster shorter than 6 bytes is replaced as a whole if the map has an entry for a
/// prefix of it, otherwise each character is replaced on its own.
struct PrecompiledNormalizer: Normalizer {
    let charsMap: PrecompiledCharsMap

    /// The replacement of the shortest mapped prefix of `chunk`, as the port's transform().
    private func transform(_ chunk: UnsafeBufferPointer<UInt8>) -> ArraySlice<UInt8>? {
        var result: ArraySlice<UInt8>?
        var found = false
        charsMap.trie.forEachPrefix(chunk, from: 0, to: chunk.count, stopAtNul: true) { _, value in
            if !found {
                found = true
                result = charsMap.replacement(at: value)
            }
        }
        return found ? (result ?? []) : nil
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var modified = false
        let string = String(decoding: text, as: UTF8.self)
        for grapheme in string {
            var utf8 = Array(grapheme.utf8)
            utf8.withUnsafeMutableBufferPointer { g in
                let p = UnsafeBufferPointer(g)
                if p.count < 6, let replacement = transform(p) {
                    out.append(contentsOf: replacement)
                    modified = true
                    return
                }
                var i = 0
                while i < p.count {
                    let length = min(UTF8Text.sequenceLength(p[i]), p.count - i)
                    let part = UnsafeBufferPointer(rebasing: p[i..<i + length])
                    if let replacement = transform(part) {
                        out.append(contentsOf: replacement)
                        modified = true
                    } else {
                        out.append(contentsOf: part)
                    }
                    i += length
                }
            }
        }
        return modified ? out : text
    }
}
