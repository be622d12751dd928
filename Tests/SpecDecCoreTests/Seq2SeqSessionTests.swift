import CAllocationCounter
import SpecDecCore
import Testing

/// The decoder cache, the source cache and the decoding loops of Seq2SeqSession.
@Suite struct Seq2SeqSessionTests {
    let directory = Seq2SeqFixtures.directory("marian_f32")
    let source: [Int32] = [27, 251, 121, 7, 23, 171, 48, 75, 125, 0]

    func session(threads: Int = 2, maxBatch: Int = 64) throws -> Seq2SeqSession {
        try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: directory), sourceCapacity: 32, capacity: 48,
                           threads: threads, maxBatch: maxBatch)
    }

    @Test func encoderRunsOncePerSource() throws {
        let s = try session()
        try s.setSource(source)
        try s.setSource(source)
        #expect(s.encoderRuns == 1)
        _ = try s.greedy(source, count: 4)
        #expect(s.encoderRuns == 1)
        #expect(s.stats.reusedTokens == source.count)
        try s.setSource(Array(source.dropFirst()))
        #expect(s.encoderRuns == 2)
        #expect(s.source == Array(source.dropFirst()))
        #expect(s.length == 0)
    }

    @Test func truncateAndReevaluateGivesTheSameLogits() throws {
        let s = try session()
        try s.setSource(source)
        let start = Int32(s.config.decoderStartTokenId)
        let ids: [Int32] = [start, 40, 41, 42, 43, 44]
        let all = try s.logitRows(ids)
        try s.truncate(to: 3)
        #expect(s.length == 3)
        let redo = try s.logitRows(Array(ids[3...]))
        for (a, b) in zip(all[3...], redo) { #expect(maxShiftedDifference(a, b) < 1e-4) }
        // One token at a time agrees with the batch.
        s.reset()
        var stepped: [[Float]] = []
        for id in ids { stepped.append(try s.logitRows([id])[0]) }
        for (a, b) in zip(all, stepped) { #expect(maxShiftedDifference(a, b) < 1e-4) }
    }

    @Test func treeMaskSeesOnlyAncestors() throws {
        let s = try session()
        try s.setSource(source)
        let start = Int32(s.config.decoderStartTokenId)
        _ = try s.logitRows([start, 10])
        // Two siblings at position 2: each sees the prefix and itself.
        let siblings: [Int32] = [20, 30]
        let positions: [Int32] = [2, 2]
        let mask: [UInt8] = [1, 0, 0, 1]
        var out = [Float](repeating: 0, count: 2 * s.config.vocabSize)
        try siblings.withUnsafeBufferPointer { (t) throws(SpecDecError) in
            try positions.withUnsafeBufferPointer { (p) throws(SpecDecError) in
                try out.withUnsafeMutableBufferPointer { (o) throws(SpecDecError) in
                    try s.evaluate(tokens: t, positions: p, logits: o.baseAddress!, rows: .all, batchMask: mask)
                }
            }
        }
        let vocab = s.config.vocabSize
        for (i, token) in siblings.enumerated() {
            try s.truncate(to: 2)
            let alone = try s.logitRows([token])[0]
            #expect(maxShiftedDifference(Array(out[(i * vocab)..<((i + 1) * vocab)]), alone) < 1e-4)
        }
    }

    @Test func oneAndTwoThreadsAgree() throws {
        let one = try session(threads: 1), two = try session(threads: 2)
        #expect(try one.greedy(source, count: 16) == two.greedy(source, count: 16))
        var options = BeamSearchOptions()
        options.maxNewTokens = 12
        options.returnCount = 4
        #expect(try one.beamSearch(source: source, options: options) == two.beamSearch(source: source, options: options))
    }

    @Test func samplingIsReproducibleAndTopKOneIsGreedy() throws {
        let s = try session()
        var options = GenerationOptions()
        options.maxNewTokens = 16
        options.stopAtEndOfSequence = false
        options.sampling.temperature = 1.0
        options.sampling.seed = 7
        let a = try s.generate(source: source, options: options)
        let b = try s.generate(source: source, options: options)
        #expect(a == b)
        #expect(a.count == 16)
        #expect(a.allSatisfy { $0 >= 0 && Int($0) < s.config.vocabSize })
        options.sampling.seed = 8
        let c = try s.generate(source: source, options: options)
        #expect(c != a)
        options.sampling.topK = 1
        #expect(try s.generate(source: source, options: options) == s.greedy(source, count: 16, stopAtEOS: false))
    }

    @Test func beamSearchWithoutEndTokensRunsToTheLimit() throws {
        let s = try session()
        var options = BeamSearchOptions()
        options.beamCount = 3
        options.returnCount = 3
        options.maxNewTokens = 9
        options.endTokens = []
        let hypotheses = try s.beamSearch(source: source, options: options)
        #expect(hypotheses.count == 3)
        #expect(hypotheses.allSatisfy { $0.tokens.count == 9 && !$0.endedWithEndToken })
        #expect(zip(hypotheses, hypotheses.dropFirst()).allSatisfy { $0.score >= $1.score })
        // Each score is the sum of the teacher-forced log-probabilities / length.
        for h in hypotheses {
            let logprobs = try s.teacherForcedLogProbabilities(source: source, target: h.tokens)
            #expect(abs(logprobs.reduce(0, +) / 9 - h.score) < 1e-4)
        }
    }

    @Test func decodingLoopsDoNotAllocatePerToken() throws {
        let s = try session()
        var output = [Int32](repeating: 0, count: 40)
        func generateAllocations(_ count: Int) -> Int {
            var options = GenerationOptions()
            options.maxNewTokens = count
            options.stopAtEndOfSequence = false
            return source.withUnsafeBufferPointer { p in
                output.withUnsafeMutableBufferPointer { o in
                    allocation_counter_start()
                    let result = s.generate(source: p, options: options, output: o.baseAddress!) { _, _ in .proceed }
                    let counted = allocation_counter_stop()
                    #expect(result.error == nil)
                    return counted
                }
            }
        }
        _ = generateAllocations(4)
        #expect(generateAllocations(8) == generateAllocations(40))

        func beamAllocations(_ count: Int) -> Int {
            var options = BeamSearchOptions()
            options.maxNewTokens = count
            options.endTokens = []
            options.returnCount = 2
            return source.withUnsafeBufferPointer { p in
                allocation_counter_start()
                let result = try? s.beamSearch(source: p, options: options)
                let counted = allocation_counter_stop()
                #expect(result?.count == 2)
                return counted
            }
        }
        try s.reserveBeams(beamCount: 4, maxNewTokens: 40, endTokenCount: 0)
        _ = beamAllocations(4)
        #expect(beamAllocations(8) == beamAllocations(40))
    }
}
