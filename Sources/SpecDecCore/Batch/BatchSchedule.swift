/// How a batch call groups its inputs: at most `maxSequences` decode together, and, when
/// `maxTokens` > 0, a sequence joins only while the inputs decoding hold at most that many
/// tokens (CTranslate2's batch_type="tokens"; a longer input still runs, alone). A sequence
/// that finishes leaves the batch and the next input takes its place.
public struct BatchSchedule: Sendable {
    public var maxSequences: Int
    public var maxTokens: Int

    public init(maxSequences: Int, maxTokens: Int = 0) {
        self.maxSequences = maxSequences
        self.maxTokens = maxTokens
    }

    /// Checks a call of `count` inputs (and their seeds, when given) before any work.
    func validate(count: Int, seeds: [UInt64]?, sessionLimit: Int) throws(SpecDecError) {
        guard count >= 1 else { throw .invalidArgument("the batch is empty: give at least one sequence") }
        if let seeds, seeds.count != count { throw .invalidArgument("\(seeds.count) seeds for \(count) sequences") }
        guard maxSequences >= 1 else { throw .invalidArgument("batch size must be >= 1 (got \(maxSequences))") }
        guard maxTokens >= 0 else { throw .invalidArgument("batch tokens must be >= 0 (got \(maxTokens))") }
        guard maxSequences <= sessionLimit else {
            throw .init(.capacity, "a batch of \(maxSequences) sequences exceeds the session's capacity of \(sessionLimit) sequences (create the session with max_sequences >= \(maxSequences))")
        }
    }
}

/// What one input of a batch call produced: `count` tokens in its output row, why it
/// stopped, and the error that ended it (an invalid input fails alone; the others run).
public struct BatchSequenceResult: Sendable {
    public var count = 0
    public var stopReason = StopReason.none
    public var error: SpecDecError?

    public init() {}
}
