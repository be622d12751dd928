/// How the next token is chosen from the logits. Temperature 0 means greedy (argmax).
/// The processors run in the order of Hugging Face transformers: repetition penalty,
/// temperature, top-k, top-p, min-p.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0
    public var topK: Int = 0
    public var topP: Float = 1
    public var minP: Float = 0
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 0

    public init() {}

    public var isGreedy: Bool { temperature == 0 }

    public func validate() throws(SpecDecError) {
        guard temperature.isFinite, temperature >= 0 else { throw .invalidArgument("temperature must be >= 0 (got \(temperature))") }
        guard topK >= 0 else { throw .invalidArgument("top_k must be >= 0 (got \(topK))") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw .invalidArgument("top_p must be in (0, 1] (got \(topP))") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw .invalidArgument("min_p must be in [0, 1] (got \(minP))") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw .invalidArgument("repetition_penalty must be > 0 (got \(repetitionPenalty))")
        }
    }
}
