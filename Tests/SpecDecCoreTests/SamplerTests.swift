import SpecDecCore
import Testing

@Suite struct SamplerTests {
    let directory = Fixtures.decoder("llama_f32")

    func sample(_ parameters: SamplingParameters, prompt: [Int32] = [5, 6, 7], count: Int = 16) throws -> [Int32] {
        let session = try Session(model: try ModelLoader.load(directory: directory), capacity: 64, threads: 1)
        var options = GenerationOptions()
        options.maxNewTokens = count
        options.stopAtEndOfSequence = false
        options.sampling = parameters
        return try session.generateArray(prompt, options: options)
    }

    @Test func sameSeedSameTokens() throws {
        var p = SamplingParameters()
        p.temperature = 1
        p.seed = 42
        #expect(try sample(p) == sample(p))
        var other = p
        other.seed = 43
        #expect(try sample(p) != sample(other))
    }

    @Test func topKOfOneIsGreedy() throws {
        var p = SamplingParameters()
        p.temperature = 0.8
        p.topK = 1
        p.seed = 9
        #expect(try sample(p) == sample(SamplingParameters()))
    }

    @Test func tinyTopPIsGreedy() throws {
        var p = SamplingParameters()
        p.temperature = 1.3
        p.topP = 1e-6
        #expect(try sample(p) == sample(SamplingParameters()))
    }

    @Test func minPOfOneIsGreedy() throws {
        var p = SamplingParameters()
        p.temperature = 1
        p.minP = 1
        #expect(try sample(p) == sample(SamplingParameters()))
    }

    @Test func strongRepetitionPenaltyAvoidsRepeats() throws {
        var p = SamplingParameters()
        p.repetitionPenalty = 1000
        let prompt: [Int32] = [5, 6, 7]
        let out = try sample(p, prompt: prompt, count: 20)
        #expect(Set(out).count == out.count)
        #expect(Set(out).isDisjoint(with: prompt))
    }

    /// Temperature sampling follows softmax(logits / T): a chi-square test over 4,000
    /// seeded draws of the first token. The 0.1% critical value is used, so this test
    /// fails by chance once in a thousand seeds; the seeds are fixed, so it is stable.
    @Test func samplesFollowTheSoftmax() throws {
        let model = try ModelLoader.load(directory: directory)
        let session = try Session(model: model, capacity: 16, threads: 1)
        let prompt: [Int32] = [11, 12]
        let logits = try session.logitRows(prompt)[1]
        let temperature: Float = 2
        let scaled = logits.map { Double($0 / temperature) }
        let maxValue = scaled.max()!
        let weights = scaled.map { exp($0 - maxValue) }
        let total = weights.reduce(0, +)
        let expected = weights.map { $0 / total }
        var counts = [Int](repeating: 0, count: logits.count)
        let draws = 4000
        var options = GenerationOptions()
        options.maxNewTokens = 1
        options.sampling.temperature = temperature
        for seed in 0..<draws {
            options.sampling.seed = UInt64(seed)
            counts[Int(try session.generateArray(prompt, options: options)[0])] += 1
        }
        // Pool rare tokens (expected count < 5) into one bin, as chi-square requires.
        var chi = 0.0, bins = 0, rareObserved = 0, rareExpected = 0.0
        for (i, p) in expected.enumerated() {
            let e = p * Double(draws)
            if e < 5 { rareObserved += counts[i]; rareExpected += e; continue }
            chi += pow(Double(counts[i]) - e, 2) / e
            bins += 1
        }
        if rareExpected > 0 { chi += pow(Double(rareObserved) - rareExpected, 2) / rareExpected; bins += 1 }
        // Wilson–Hilferty approximation of the 99.9% chi-square quantile for bins-1 dof.
        let k = Double(bins - 1)
        let critical = k * pow(1 - 2 / (9 * k) + 3.090 * (2 / (9 * k)).squareRoot(), 3)
        #expect(chi < critical, "chi-square \(chi) over \(bins) bins exceeds \(critical)")
    }
}

#if canImport(Glibc)
import Glibc
#endif
