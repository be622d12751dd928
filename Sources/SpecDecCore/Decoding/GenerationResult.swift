/// Outcome of a generation call: how many tokens were written, and the error that ended
/// it early (tokens produced before a failure are kept).
public struct GenerationResult {
    public var count: Int
    public var error: SpecDecError?

    public init(count: Int, error: SpecDecError?) {
        self.count = count
        self.error = error
    }
}

extension Session {
    public typealias GenerationResult = SpecDecCore.GenerationResult
}

extension Seq2SeqSession {
    public typealias GenerationResult = SpecDecCore.GenerationResult
}
