/// `Fuse`: joins all tokens into one.
struct FuseDecoder: Decoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}
