/// `ByteLevel`: optionally prefixes a space, splits with the GPT-2 pattern, and maps every
/// byte to a printable character. When it is the last pre-tokenizer the mapping is skipped
/// (`mapsBytes` false): the BPE model then looks up raw bytes in a vocabulary that was
/// mapped back to bytes at load time, which is the same function and much cheaper.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool
    var mapsBytes: Bool

    func preTokenize(_ buffer: inout PieceBuffer) {
        if addPrefixSpace {
            var pieces = buffer.pieces
            for k in pieces.indices where buffer.bytes[pieces[k].start] != 0x20 {
                let start = buffer.bytes.count
                buffer.bytes.append(0x20)
                buffer.bytes.append(contentsOf: buffer.bytes[pieces[k].start..<pieces[k].end])
                pieces[k].start = start
                pieces[k].end = buffer.bytes.count
            }
            buffer.pieces = pieces
        }
        if useRegex {
            buffer.split { p, piece, out in
                PreTokenizerScanners.gpt2(p, piece.start, piece.end) { s, e in out.appendRange(s, e, origin: piece) }
            }
        }
        if mapsBytes {
            var pieces = buffer.pieces
            for k in pieces.indices {
                let start = buffer.bytes.count
                for i in pieces[k].start..<pieces[k].end {
                    UTF8Text.append(ByteLevelAlphabet.scalar(for: buffer.bytes[i]), to: &buffer.bytes)
                }
                pieces[k].start = start
                pieces[k].end = buffer.bytes.count
            }
            buffer.pieces = pieces
        }
    }
}
