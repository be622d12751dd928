/// How a draft model turns its logits into draft tokens, one at a time: the argmax, or a
/// draw from its sampling distribution, which then goes into the draft for speculative
/// sampling. Shared by the decoder-only and encoder-decoder draft models.
struct DraftTokenPicker {
    /// The draft model's logits for the next token; the owner's forward pass writes here.
    var logits: [Float]
    private var distribution: [Float]
    private var sampler: Sampler
    private var history: [Int32] = []
    private var sampled = false

    init(vocabSize: Int) throws(SpecDecError) {
        logits = [Float](repeating: 0, count: vocabSize)
        distribution = logits
        sampler = try Sampler(vocabSize: vocabSize, arena: try Arena(byteCount: Sampler.footprint(vocabSize: vocabSize), backend: .mmap))
    }

    /// A new request with these sampling settings.
    mutating func begin(_ sampling: SamplingParameters) {
        sampler.reset(sampling)
    }

    /// A new proposal continuing `context`.
    mutating func start(_ context: DraftContext, draft: inout Draft) {
        sampled = context.wantsDistributions && !context.sampling.isGreedy
        if sampled { draft.distributions = []; draft.vocabSize = logits.count }
        history.removeAll(keepingCapacity: true)
        history.append(contentsOf: context.tokens)
    }

    /// Picks the next token from `logits` and appends it to the draft.
    mutating func pick(into draft: inout Draft) -> Int32 {
        let vocab = logits.count
        let token: Int32
        if sampled {
            token = logits.withUnsafeMutableBufferPointer { l in
                distribution.withUnsafeMutableBufferPointer { q in
                    history.withUnsafeBufferPointer { h in
                        sampler.distribution(l.baseAddress!, history: h.baseAddress!, historyCount: h.count, into: q.baseAddress!)
                    }
                    return sampler.draw(from: q.baseAddress!, count: vocab)
                }
            }
            draft.distributions!.append(contentsOf: distribution)
        } else {
            token = Int32(logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress!, count: vocab) })
        }
        draft.appendChain(token)
        history.append(token)
        return token
    }
}
