/// A tokenizer.json decoder: rewrites the list of token strings; the results are joined.
protocol Decoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

/// `Sequence`: decoders in order.
struct SequenceDecoder: Decoder {
    let decoders: [any Decoder]

    func decodeChain(_ tokens: [String]) -> [String] {
        var tokens = tokens
        for decoder in decoders { tokens = decoder.decodeChain(tokens) }
        return tokens
    }
}
