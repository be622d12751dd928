/// Teacher-forced scoring of a target given a source.
extension Seq2SeqSession {
    /// log p(target[i] | source, start, target[..<i]) for every i: the decoder runs
    /// [start] + target[..<(n-1)] in chunks of at most `maxBatch` tokens.
    public func teacherForcedLogProbabilities(source: [Int32], target: [Int32]) throws(SpecDecError) -> [Double] {
        guard !target.isEmpty else { throw .invalidArgument("the target must hold at least one token") }
        guard target.count <= capacity else {
            throw .init(.capacity, "\(target.count) target tokens (with the start token) do not fit the decoder capacity of \(capacity)")
        }
        let vocab = config.vocabSize
        for (i, id) in target.enumerated() where id < 0 || Int(id) >= vocab {
            throw .init(.tokenOutOfRange, "target token id \(id) at index \(i) is outside the target vocabulary [0, \(vocab))")
        }
        try setSource(source)
        let inputs = [Int32(config.decoderStartTokenId)] + target.dropLast()
        var logits = [Float](repeating: 0, count: min(maxBatch, inputs.count) * vocab)
        var result: [Double] = []
        result.reserveCapacity(target.count)
        var offset = 0
        while offset < inputs.count {
            let n = min(maxBatch, inputs.count - offset)
            try inputs.withUnsafeBufferPointer { (all) throws(SpecDecError) in
                try logits.withUnsafeMutableBufferPointer { (out) throws(SpecDecError) in
                    try evaluate(tokens: UnsafeBufferPointer(rebasing: all[offset..<(offset + n)]), logits: out.baseAddress!, rows: .all)
                    for t in 0..<n {
                        result.append(VectorOps.logProbability(out.baseAddress! + t * vocab, count: vocab, token: Int(target[offset + t])))
                    }
                }
            }
            offset += n
        }
        return result
    }
}
