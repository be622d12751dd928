import ArgumentParser
import SpecDecCore

/// `--batch-size` and `--batch-tokens`, shared by the commands that read many inputs.
struct BatchingOptions: ParsableArguments {
    @Option(name: .customLong("batch-size"),
            help: "Decode this many inputs together, one model pass per token for all (greedy and sampling; beam search and drafters run one input at a time).")
    var batchSize: Int = 1
    @Option(name: .customLong("batch-tokens"),
            help: "With --batch-size: an input joins the batch only while the inputs decoding hold at most this many tokens (0 = no limit).")
    var batchTokens: Int = 0

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be >= 1") }
        guard batchTokens >= 0 else { throw ValidationError("--batch-tokens must be >= 0") }
    }

    var schedule: BatchSchedule { BatchSchedule(maxSequences: batchSize, maxTokens: batchTokens) }
    /// Rows of the session's passes: a batch needs one per sequence.
    var maxBatch: Int { max(64, batchSize) }
    /// Inputs handed to one batch call (several batches' worth, so finished slots refill).
    var inputsPerCall: Int { batchSize == 1 ? 1 : batchSize * 8 }
}
