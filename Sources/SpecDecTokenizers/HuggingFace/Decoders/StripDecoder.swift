/// `Strip`: removes up to `start` leading and `stop` trailing `content` characters from each token.
struct StripDecoder: Decoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var startCut = 0
            for i in 0..<min(start, scalars.count) {
                guard scalars[i] == content else { break }
                startCut = i + 1
            }
            var stopCut = scalars.count
            for i in 0..<min(stop, scalars.count) {
                let index = scalars.count - i - 1
                guard scalars[index] == content else { break }
                stopCut = index
            }
            guard startCut < stopCut else { return "" }
            var out = ""
            out.unicodeScalars.append(contentsOf: scalars[startCut..<stopCut])
            return out
        }
    }
}
