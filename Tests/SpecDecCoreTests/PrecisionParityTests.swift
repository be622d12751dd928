import SpecDecCore
import Testing

/// Reduced-precision loads against transformers' fp32 references.
///
/// Rule for greedy ids: a bf16 or int8 model must reproduce transformers' greedy ids up
/// to the first step whose fp32 top-1/top-2 logit margin is below `margin` (there the
/// rounding of the weights may legitimately swap the two), and the fixtures are chosen
/// so that this covers most of the sequence. The margins come from our fp32 forward,
/// which the parity suites hold to transformers' logits within 1e-3.
/// Teacher-forced log-probabilities: within `logProbabilityTolerance` of the reference
/// (bf16 0.1, int8 0.4: on these random-weight fixtures the measured worst cases are
/// 0.06 and 0.26).
@Suite struct PrecisionParityTests {
    static let precisions: [WeightPrecision] = [.bf16, .int8]
    static func margin(_ p: WeightPrecision) -> Float { p == .bf16 ? 0.05 : 0.25 }
    static func logProbabilityTolerance(_ p: WeightPrecision) -> Double { p == .bf16 ? 0.1 : 0.4 }

    /// Steps of `ids` (after `prefix`) whose fp32 margin is at least `minimum`, counted from the start.
    static func confidentSteps(_ rows: [[Float]], ids: [Int32], minimum: Float) -> Int {
        var steps = 0
        for (row, id) in zip(rows, ids) {
            let sorted = row.sorted(by: >)
            guard row[Int(id)] == sorted[0], sorted[0] - sorted[1] >= minimum else { break }
            steps += 1
        }
        return steps
    }

    @Test(arguments: Fixtures.decoderNames, precisions)
    func decoderGreedyAndLogProbabilities(_ name: String, _ precision: WeightPrecision) throws {
        let directory = Fixtures.decoder(name)
        let reference = try DecoderReference(directory: directory)
        let fp32 = try Session(model: try ModelLoader.load(directory: directory), capacity: 64, threads: 1)
        let rows = try fp32.logitRows(reference.promptIds + reference.greedyIds)
        let stepRows = Array(rows[(reference.promptIds.count - 1)...])
        let steps = Self.confidentSteps(stepRows, ids: reference.greedyIds, minimum: Self.margin(precision))

        let model = try ModelLoader.load(directory: directory, options: LoadOptions(precision: precision))
        let session = try Session(model: model, capacity: 64, threads: 2, maxBatch: 5)
        let ours = try session.greedy(reference.promptIds, count: reference.greedyIds.count)
        #expect(Array(ours.prefix(steps)) == Array(reference.greedyIds.prefix(steps)), "\(name) \(precision): first \(steps) confident steps")
        session.reset()
        let logprobs = try session.teacherForcedLogProbabilities(reference.scoreIds)
        let worst = zip(logprobs, reference.logprobs).map { abs($0 - $1) }.max() ?? .infinity
        print("precision \(name) \(precision): confident steps \(steps)/\(reference.greedyIds.count), max |Δ log p| \(worst)")
        #expect(worst < Self.logProbabilityTolerance(precision), "\(name) \(precision): max |Δ log p| = \(worst)")
    }

    @Test(arguments: Seq2SeqFixtures.names, precisions)
    func seq2seqGreedyAndLogProbabilities(_ name: String, _ precision: WeightPrecision) throws {
        let directory = Seq2SeqFixtures.directory(name)
        let reference = try Seq2SeqReference(directory: directory)
        let fp32 = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: directory), sourceCapacity: 32, capacity: 64, threads: 1)
        try fp32.setSource(reference.sourceIds)
        let rows = try fp32.logitRows([Int32(reference.decoderStartTokenId)] + reference.greedyIds.dropLast())
        let steps = Self.confidentSteps(rows, ids: reference.greedyIds, minimum: Self.margin(precision))

        let model = try EncoderDecoderLoader.load(directory: directory, options: LoadOptions(precision: precision))
        let session = try Seq2SeqSession(model: model, sourceCapacity: 32, capacity: 64, threads: 2, maxBatch: 5)
        let ours = try session.greedy(reference.sourceIds, count: reference.maxNewTokens)
        #expect(Array(ours.prefix(steps)) == Array(reference.greedyIds.prefix(steps)), "\(name) \(precision): first \(steps) confident steps")
        let logprobs = try session.teacherForcedLogProbabilities(source: reference.sourceIds, target: reference.targetIds)
        let worst = zip(logprobs, reference.logprobs).map { abs($0 - $1) }.max() ?? .infinity
        print("precision \(name) \(precision): confident steps \(steps)/\(reference.greedyIds.count), max |Δ log p| \(worst)")
        #expect(worst < Self.logProbabilityTolerance(precision), "\(name) \(precision): max |Δ log p| = \(worst)")
    }
}
