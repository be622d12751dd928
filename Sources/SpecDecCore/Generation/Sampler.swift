#if canImport(Glibc)
import Glibc
#endif

/// Chooses tokens from logits. All buffers are carved from the session arena at
/// creation, so sampling allocates nothing per token.
public struct Sampler {
    public let vocabSize: Int
    private let order: UnsafeMutablePointer<Int32>      // [vocab] candidate ids, best first
    private let probabilities: UnsafeMutablePointer<Float> // [vocab]
    private let seen: UnsafeMutablePointer<UInt8>       // [vocab] repetition-penalty marks
    public var parameters = SamplingParameters()
    private var random = RandomGenerator(seed: 0)
    /// Keeps the buffers' memory alive as long as the sampler.
    private let arena: Arena

    public static func footprint(vocabSize: Int) -> Int {
        Arena.footprint(Int32.self, count: vocabSize) + Arena.footprint(Float.self, count: vocabSize)
            + Arena.footprint(UInt8.self, count: vocabSize)
    }

    public init(vocabSize: Int, arena: Arena) throws(SpecDecError) {
        self.vocabSize = vocabSize
        self.arena = arena
        order = try arena.allocate(Int32.self, count: vocabSize)
        probabilities = try arena.allocate(Float.self, count: vocabSize)
        seen = try arena.allocate(UInt8.self, count: vocabSize)
    }

    public mutating func reset(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = RandomGenerator(seed: parameters.seed)
    }

    /// Whether a history changes the logits (a repetition penalty other than 1).
    public var penalizesRepetition: Bool { parameters.repetitionPenalty != 1 }

    /// HF's repetition penalty: every id already in `history` has its logit divided by
    /// the penalty when positive, multiplied when negative.
    public func applyRepetitionPenalty(_ logits: UnsafeMutablePointer<Float>, history: UnsafePointer<Int32>, count: Int) {
        let penalty = parameters.repetitionPenalty
        guard penalty != 1 else { return }
        for i in 0..<count {
            let id = Int(history[i])
            if seen[id] != 0 { continue }
            seen[id] = 1
            logits[id] = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty
        }
        for i in 0..<count { seen[Int(history[i])] = 0 }
    }

    /// Picks the next token; `logits` is modified in place.
    public mutating func sample(_ logits: UnsafeMutablePointer<Float>, history: UnsafePointer<Int32>, historyCount: Int) -> Int32 {
        applyRepetitionPenalty(logits, history: history, count: historyCount)
        if parameters.isGreedy { return Int32(VectorOps.argmax(logits, count: vocabSize)) }
        let candidates = filteredDistribution(logits)
        var u = Float(random.nextUnit())
        for i in 0..<candidates {
            u -= probabilities[i]
            if u < 0 { return order[i] }
        }
        return order[candidates - 1]
    }

    /// The distribution plain sampling would draw from, as a full vocabulary vector:
    /// repetition penalty, temperature, top-k, top-p and min-p applied. Greedy settings
    /// give a one-hot vector on the argmax. `logits` is modified in place.
    public func distribution(_ logits: UnsafeMutablePointer<Float>, history: UnsafePointer<Int32>, historyCount: Int,
                             into p: UnsafeMutablePointer<Float>) {
        applyRepetitionPenalty(logits, history: history, count: historyCount)
        p.update(repeating: 0, count: vocabSize)
        if parameters.isGreedy {
            p[VectorOps.argmax(logits, count: vocabSize)] = 1
            return
        }
        let n = filteredDistribution(logits)
        for i in 0..<n { p[Int(order[i])] = probabilities[i] }
    }

    /// Draws an index from a probability vector (it need not be normalised).
    public mutating func draw(from p: UnsafePointer<Float>, count: Int) -> Int32 {
        var total: Double = 0
        for i in 0..<count { total += Double(p[i]) }
        var u = random.nextUnit() * total
        var last = 0
        for i in 0..<count where p[i] > 0 {
            u -= Double(p[i])
            last = i
            if u < 0 { return Int32(i) }
        }
        return Int32(last)
    }

    /// Uniform in [0, 1) from the request's seeded generator.
    public mutating func uniform() -> Double { random.nextUnit() }

    /// Applies temperature, top-k, top-p and min-p and leaves the surviving candidates,
    /// best first, in `order[0..<n]` with normalised probabilities; returns n.
    public func filteredDistribution(_ logits: UnsafeMutablePointer<Float>) -> Int {
        let inverseTemperature = 1 / parameters.temperature
        for i in 0..<vocabSize { logits[i] *= inverseTemperature }
        var n = vocabSize
        for i in 0..<vocabSize { order[i] = Int32(i) }
        let k = parameters.topK > 0 ? min(parameters.topK, vocabSize) : vocabSize
        if k < vocabSize || parameters.topP < 1 || parameters.minP > 0 {
            sortDescending(logits, count: vocabSize, keep: k)
            n = k
        } else {
            // Plain temperature sampling needs no order.
        }
        // Softmax over the first n candidates.
        var maxLogit = -Float.infinity
        for i in 0..<n where logits[Int(order[i])] > maxLogit { maxLogit = logits[Int(order[i])] }
        var sum: Float = 0
        for i in 0..<n {
            let e = expf(logits[Int(order[i])] - maxLogit)
            probabilities[i] = e
            sum += e
        }
        for i in 0..<n { probabilities[i] /= sum }
        if parameters.topP < 1 {
            // Keep the smallest prefix whose mass reaches top_p (at least one token).
            var cumulative: Float = 0
            var kept = 0
            while kept < n {
                cumulative += probabilities[kept]
                kept += 1
                if cumulative >= parameters.topP { break }
            }
            n = kept
        }
        if parameters.minP > 0 {
            let threshold = parameters.minP * probabilities[0]
            var kept = 1
            while kept < n && probabilities[kept] >= threshold { kept += 1 }
            n = kept
        }
        var total: Float = 0
        for i in 0..<n { total += probabilities[i] }
        for i in 0..<n { probabilities[i] /= total }
        return n
    }

    /// Orders `order` by descending logit; only the first `keep` need to be right.
    private func sortDescending(_ logits: UnsafePointer<Float>, count: Int, keep: Int) {
        var ids = UnsafeMutableBufferPointer(start: order, count: count)
        if keep < count / 8 {
            // Partial selection: a bounded insertion into the first `keep` slots.
            var filled = 0
            for i in 0..<count {
                let v = logits[i]
                if filled == keep && v <= logits[Int(ids[keep - 1])] { continue }
                var j = min(filled, keep - 1)
                if filled < keep { filled += 1 }
                while j > 0 && logits[Int(ids[j - 1])] < v { ids[j] = ids[j - 1]; j -= 1 }
                ids[j] = Int32(i)
            }
        } else {
            ids.sort { a, b in
                let la = logits[Int(a)], lb = logits[Int(b)]
                return la > lb || (la == lb && a < b)
            }
        }
    }
}
