import CAllocationCounter
import Testing
@testable import SpecDecCore

/// Batched SpecDec on the shipped pair: one Spec-Drafter call drafts for every sequence
/// and one decoder pass verifies every draft, and each sequence's output is what decoding
/// it alone gives (β = 1: transformers' greedy output).
@Suite struct BatchSpeculativeTests {
    static let drafterDirectory = Fixtures.repositoryRoot + "/models/specdec-en-de-drafter"

    static func run(_ session: Seq2SeqSession, _ sources: [[Int32]], options: GenerationOptions, schedule: BatchSchedule,
                    speculation: BatchSpeculation) throws -> ([[Int32]?], [BatchSequenceResult]) {
        let width = max(1, options.maxNewTokens)
        var outputs = [Int32](repeating: -1, count: sources.count * width)
        let results = try sources.withUnsafeBufferPointers { inputs in
            try outputs.withUnsafeMutableBufferPointer { out in
                try session.generateSpeculativeBatch(sources: inputs, options: options, schedule: schedule,
                                                     speculation: speculation, outputs: out.baseAddress!)
            }
        }
        let tokens = results.enumerated().map { i, r -> [Int32]? in
            r.error == nil ? Array(outputs[(i * width)..<(i * width + r.count)]) : nil
        }
        return (tokens, results)
    }

    static func speculation(_ session: Seq2SeqSession, beta: Int, tau: Float) throws -> BatchSpeculation {
        let model = try SpecDrafterModel(directory: drafterDirectory)
        let drafter = try SpecDecDrafter(model: model, target: session.config, requestedLength: model.config.blockSize, pool: session.pool)
        return BatchSpeculation(drafter: drafter, rule: TopBetaToleranceAcceptance(beta: beta, tau: tau), draftLength: model.config.blockSize)
    }

    /// β = 1 is greedy: every sequence equals transformers' greedy translation, whatever the
    /// batch size, including a session whose passes hold fewer rows than one round needs.
    @Test(arguments: [(1, 64), (4, 64), (24, 64), (16, 20)])
    func betaOneBatchEqualsTransformersGreedy(batchSize: Int, maxBatch: Int) throws {
        let cases = try BatchDecodingTests.shippedCases()
        let model = try EncoderDecoderLoader.load(directory: BatchDecodingTests.verifier)
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxBatch: maxBatch, maxSequences: min(24, maxBatch))
        var options = GenerationOptions()
        options.maxNewTokens = 128
        let sources = (cases + cases.reversed()).map(\.source)
        let expected = (cases + cases.reversed()).map(\.greedy)
        let (tokens, results) = try Self.run(session, sources, options: options, schedule: BatchSchedule(maxSequences: batchSize),
                                             speculation: try Self.speculation(session, beta: 1, tau: 0))
        #expect(results.allSatisfy { $0.error == nil })
        let matching = zip(tokens, expected).filter { $0.0 == $0.1 }.count
        #expect(matching == sources.count, "\(matching) of \(sources.count) equal transformers' greedy output")
        #expect(session.stats.draftedTokens > 0 && session.stats.acceptedTokens > 0)
        if batchSize > 1 && maxBatch == 64 {
            // One pass verifies many sequences' drafts: fewer passes than rounds of one sequence after another.
            let rounds = session.stats.generatedTokens - session.stats.acceptedTokens
            #expect(session.stats.targetCalls < rounds)
        }
    }

    /// Looser Spec-Verification (β = 5, τ = 3) depends on the drafts: each sequence equals
    /// `generateSpeculative` alone with the same drafter and rule, at fp32 and int8.
    @Test(arguments: [WeightPrecision.fp32, .int8])
    func looseVerificationEqualsAlone(precision: WeightPrecision) throws {
        let sources = Array(try BatchDecodingTests.shippedCases().map(\.source).prefix(12))
        let model = try EncoderDecoderLoader.load(directory: BatchDecodingTests.verifier, options: LoadOptions(precision: precision))
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxSequences: 8)
        let alone = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2)
        var options = GenerationOptions()
        options.maxNewTokens = 40
        let speculation = try Self.speculation(session, beta: 5, tau: 3)
        let (tokens, _) = try Self.run(session, sources, options: options, schedule: BatchSchedule(maxSequences: 8, maxTokens: 90),
                                       speculation: speculation)
        var speculative = SpeculativeOptions()
        speculative.draftLength = speculation.draftLength
        for (i, source) in sources.enumerated() {
            let expected = try alone.generateSpeculative(source: source, options: options, speculative: speculative,
                                                         drafter: speculation.drafter, rule: speculation.rule)
            #expect(tokens[i] == expected, "sequence \(i) at \(precision)")
        }
    }

    /// The batched drafter pass gives each sequence exactly its own drafting's logits.
    @Test func batchedDraftingEqualsDraftingAlone() throws {
        let model = try SpecDrafterModel(directory: Self.drafterDirectory)
        let cases = Array(try BatchDecodingTests.shippedCases().prefix(6))
        let pool = ThreadPool(threadCount: 2)
        let k = model.config.blockSize
        let prefixes = cases.enumerated().map { i, c in Array(c.greedy.prefix(i * 2)) }
        let sources = try cases.map { try model.encode($0.source, pool: pool) }
        let batched = try prefixes.withUnsafeBufferPointers { buffers in
            try model.draftLogits(zip(sources, buffers).map { SpecDrafterModel.DraftRequest(source: $0, prefix: $1) }, k: k, pool: pool)
        }
        let width = k * model.config.vocabSize
        for i in cases.indices {
            let alone = try model.draftLogits(sources[i], prefix: prefixes[i], k: k, pool: pool)
            #expect(Array(batched[(i * width)..<((i + 1) * width)]) == alone, "request \(i)")
        }
    }

    /// A batched SpecDec call's heap allocations do not grow with the tokens generated: 16
    /// or 64 new tokens per sequence (EOS not stopping), ten sequences through batches of 4,
    /// once a first call has reserved the drafter's activations for 64; drafts and accepted
    /// paths reuse their storage. Allocations per sequence (its encoded source) are the
    /// same in both.
    @Test(arguments: [WeightPrecision.fp32, .int8])
    func batchedSpecDecDoesNotAllocatePerToken(precision: WeightPrecision) throws {
        let sources = Array(try BatchDecodingTests.shippedCases().map(\.source).prefix(10))
        let model = try EncoderDecoderLoader.load(directory: BatchDecodingTests.verifier, options: LoadOptions(precision: precision))
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxSequences: 4)
        let speculation = try Self.speculation(session, beta: 1, tau: 0)
        func allocations(_ count: Int) throws -> Int {
            let counted = try BatchDecodingTests.allocations(of: sources, tokens: count) { inputs, options, outputs in
                try session.generateSpeculativeBatch(sources: inputs, options: options, schedule: BatchSchedule(maxSequences: 4),
                                                     speculation: speculation, outputs: outputs)
            }
            #expect(session.stats.draftedTokens > 0)
            return counted
        }
        _ = try allocations(64)
        let short = try allocations(16), long = try allocations(64)
        #expect(short == long, "\(precision): \(short) allocations for 16 tokens a sequence, \(long) for 64")
    }

    /// Bad sequences fail alone, named by index; the others translate as usual.
    @Test func badSequencesFailAlone() throws {
        let cases = Array(try BatchDecodingTests.shippedCases().prefix(3))
        let model = try EncoderDecoderLoader.load(directory: BatchDecodingTests.verifier)
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxSequences: 4)
        var options = GenerationOptions()
        options.maxNewTokens = 128
        let sources = [cases[0].source, [], cases[1].source, [Int32](repeating: 5, count: 200), cases[2].source]
        let (tokens, results) = try Self.run(session, sources, options: options, schedule: BatchSchedule(maxSequences: 4),
                                             speculation: try Self.speculation(session, beta: 1, tau: 0))
        #expect(tokens[0] == cases[0].greedy && tokens[2] == cases[1].greedy && tokens[4] == cases[2].greedy)
        #expect(results[1].error?.message.hasPrefix("sequence 1:") == true)
        #expect(results[3].error?.kind == .capacity && results[3].error?.message.hasPrefix("sequence 3:") == true)
        #expect(throws: SpecDecError.self) {
            _ = try Self.run(session, [], options: options, schedule: BatchSchedule(maxSequences: 4),
                             speculation: try Self.speculation(session, beta: 1, tau: 0))
        }
        #expect(throws: SpecDecError.self) {
            _ = try Self.run(session, sources, options: options, schedule: BatchSchedule(maxSequences: 5),
                             speculation: try Self.speculation(session, beta: 1, tau: 0))
        }
    }
}
