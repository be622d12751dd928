/// Teacher-forced scoring, the thing users call perplexity evaluation.
extension Session {
    /// log p(ids[i] | ids[..<i]) for i = 1..<ids.count, computed from a fresh cache in
    /// chunks of at most `maxBatch` tokens.
    public func teacherForcedLogProbabilities(_ ids: [Int32]) throws(SpecDecError) -> [Double] {
        guard ids.count <= capacity else {
            throw .init(.capacity, "\(ids.count) tokens do not fit the KV capacity of \(capacity)")
        }
        reset()
        let vocab = config.vocabSize
        var logits = [Float](repeating: 0, count: maxBatch * vocab)
        var result: [Double] = []
        result.reserveCapacity(ids.count - 1)
        var offset = 0
        while offset < ids.count - 1 {
            let n = min(maxBatch, ids.count - 1 - offset)
            try ids.withUnsafeBufferPointer { (all) throws(SpecDecError) in
                try logits.withUnsafeMutableBufferPointer { (out) throws(SpecDecError) in
                    try evaluate(tokens: UnsafeBufferPointer(rebasing: all[offset..<(offset + n)]), logits: out.baseAddress!, rows: .all)
                    for t in 0..<n {
                        result.append(VectorOps.logProbability(out.baseAddress! + t * vocab, count: vocab, token: Int(all[offset + t + 1])))
                    }
                }
            }
            offset += n
        }
        return result
    }
}
