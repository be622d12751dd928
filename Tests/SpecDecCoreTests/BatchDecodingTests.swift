import CAllocationCounter
import Testing
@testable import SpecDecCore

/// Batched translation: every sequence's output equals decoding it alone (and, for the
/// shipped pair's greedy output, transformers' generate), whatever the batch size, the
/// order sequences join and leave, or the weight precision; bad sequences fail alone.
@Suite struct BatchDecodingTests {
    struct Case { let source: [Int32]; let greedy: [Int32] }

    /// The shipped verifier's greedy translations recorded with transformers
    /// (tools/fixtures/make_specdec_pair_reference.py), EOS included.
    static func shippedCases() throws -> [Case] {
        let reference = try Fixtures.json(Fixtures.testsDirectory + "/Fixtures/specdec-pair/reference.json")
        return (reference["cases"]?.arrayValue ?? []).map { c in
            func ids(_ key: String) -> [Int32] { (c[key]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
            return Case(source: ids("source_ids"), greedy: ids("greedy_ids"))
        }
    }

    static let verifier = Fixtures.repositoryRoot + "/models/specdec-en-de-verifier"

    /// Runs a batch call and returns each sequence's tokens (nil for a failed one).
    static func batch(_ session: Seq2SeqSession, _ sources: [[Int32]], options: GenerationOptions, seeds: [UInt64]? = nil,
                      schedule: BatchSchedule) throws -> ([[Int32]?], [BatchSequenceResult]) {
        let width = max(1, options.maxNewTokens)
        var outputs = [Int32](repeating: -1, count: sources.count * width)
        let results = try sources.withUnsafeBufferPointers { inputs in
            try outputs.withUnsafeMutableBufferPointer { out in
                try session.generateBatch(sources: inputs, options: options, seeds: seeds, schedule: schedule, outputs: out.baseAddress!)
            }
        }
        let tokens = results.enumerated().map { i, r -> [Int32]? in
            r.error == nil ? Array(outputs[(i * width)..<(i * width + r.count)]) : nil
        }
        return (tokens, results)
    }

    @Test(arguments: [1, 3, 8, 24])
    func greedyBatchEqualsTransformers(batchSize: Int) throws {
        let cases = try Self.shippedCases()
        #expect(cases.count >= 20)
        let model = try EncoderDecoderLoader.load(directory: Self.verifier)
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxSequences: 24)
        var options = GenerationOptions()
        options.maxNewTokens = 128
        // Twice over, so finished sequences' slots are refilled mid-batch.
        let sources = (cases + cases.reversed()).map(\.source)
        let expected = (cases + cases.reversed()).map(\.greedy)
        let (tokens, results) = try Self.batch(session, sources, options: options, schedule: BatchSchedule(maxSequences: batchSize))
        #expect(results.allSatisfy { $0.error == nil })
        let matching = zip(tokens, expected).filter { $0.0 == $0.1 }.count
        #expect(matching == sources.count, "\(matching) of \(sources.count) equal transformers' greedy output")
        if batchSize > 1 { #expect(session.stats.targetCalls < expected.map(\.count).reduce(0, +)) }
    }

    /// bf16 and int8 weights, sampling with per-sequence seeds, a repetition penalty, a
    /// token budget: each sequence equals the same request decoded alone.
    @Test(arguments: [WeightPrecision.fp32, .bf16, .int8])
    func batchEqualsOneByOne(precision: WeightPrecision) throws {
        let sources = Array(try Self.shippedCases().map(\.source).prefix(12))
        let model = try EncoderDecoderLoader.load(directory: Self.verifier, options: LoadOptions(precision: precision))
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxSequences: 8)
        let alone = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2)
        var greedy = GenerationOptions()
        greedy.maxNewTokens = 24
        var sampling = greedy
        sampling.sampling.temperature = 0.8
        sampling.sampling.topK = 20
        sampling.sampling.repetitionPenalty = 1.2
        let seeds = sources.indices.map { UInt64($0 * 7 + 1) }
        for (options, seeds, schedule) in [(greedy, nil, BatchSchedule(maxSequences: 8)),
                                           (sampling, seeds, BatchSchedule(maxSequences: 8)),
                                           (greedy, nil, BatchSchedule(maxSequences: 8, maxTokens: 50))] {
            let (tokens, _) = try Self.batch(session, sources, options: options, seeds: seeds, schedule: schedule)
            for (i, source) in sources.enumerated() {
                var own = options
                if let seeds { own.sampling.seed = seeds[i] }
                #expect(tokens[i] == (try alone.generate(source: source, options: own)), "sequence \(i) at \(precision)")
            }
        }
    }

    @Test func badSequencesFailAloneAndNamed() throws {
        let cases = try Self.shippedCases()
        let model = try EncoderDecoderLoader.load(directory: Self.verifier)
        let session = try Seq2SeqSession(model: model, sourceCapacity: 64, capacity: 96, threads: 2, maxSequences: 4)
        var options = GenerationOptions()
        options.maxNewTokens = 128
        let tooLong = [Int32](repeating: 5, count: 65)
        let outOfRange: [Int32] = [5, Int32(model.config.sourceVocabSize), 0]
        let sources = [cases[0].source, [], cases[1].source, tooLong, outOfRange, cases[2].source]
        let (tokens, results) = try Self.batch(session, sources, options: options, schedule: BatchSchedule(maxSequences: 4))
        #expect(tokens[0] == cases[0].greedy && tokens[2] == cases[1].greedy && tokens[5] == cases[2].greedy)
        for bad in [1, 3, 4] {
            #expect(tokens[bad] == nil)
            #expect(results[bad].error?.message.hasPrefix("sequence \(bad): ") == true, "\(results[bad].error?.message ?? "")")
        }
        #expect(results[3].error?.kind == .capacity && results[4].error?.kind == .tokenOutOfRange && results[1].error?.kind == .invalidArgument)
        // An empty batch, a batch above the session's sequences, mismatched seeds: errors, and the session stays usable.
        #expect(throws: SpecDecError.self) { _ = try Self.batch(session, [], options: options, schedule: BatchSchedule(maxSequences: 2)) }
        let big = #expect(throws: SpecDecError.self) { _ = try Self.batch(session, [cases[0].source], options: options, schedule: BatchSchedule(maxSequences: 5)) }
        #expect(big?.kind == .capacity)
        #expect(throws: SpecDecError.self) { _ = try Self.batch(session, [cases[0].source], options: options, seeds: [1, 2], schedule: BatchSchedule(maxSequences: 2)) }
        #expect(try Self.batch(session, [cases[3].source], options: options, schedule: BatchSchedule(maxSequences: 4)).0[0] == cases[3].greedy)
        #expect(throws: SpecDecError.self) { _ = try Seq2SeqSession(model: model, maxBatch: 8, maxSequences: 9) }
    }

    /// Heap allocations made by one batch call (`call`) that generates `count` tokens for
    /// each source, EOS not stopping; checks every sequence got them.
    static func allocations(of sources: [[Int32]], tokens count: Int,
                            _ call: ([UnsafeBufferPointer<Int32>], GenerationOptions, UnsafeMutablePointer<Int32>) throws -> [BatchSequenceResult]) throws -> Int {
        var options = GenerationOptions()
        options.maxNewTokens = count
        options.stopAtEndOfSequence = false
        var outputs = [Int32](repeating: 0, count: sources.count * count)
        return try sources.withUnsafeBufferPointers { inputs in
            try outputs.withUnsafeMutableBufferPointer { out in
                allocation_counter_start()
                let results = try call(inputs, options, out.baseAddress!)
                let counted = allocation_counter_stop()
                #expect(results.allSatisfy { $0.error == nil && $0.count == count })
                return counted
            }
        }
    }

    /// A batch call's heap allocations do not grow with the tokens generated: 8 or 40 new
    /// tokens per sequence (EOS not stopping), six sequences through batches of 4.
    @Test func batchedDecodingDoesNotAllocatePerToken() throws {
        let model = try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory("marian_f32"))
        let session = try Seq2SeqSession(model: model, sourceCapacity: 32, capacity: 48, threads: 2, maxSequences: 4)
        var sources: [[Int32]] = []
        for i in 0..<6 {
            var source: [Int32] = []
            for j in 0..<(5 + i) { source.append(Int32((j * 31 + i * 7) % 200 + 2)) }
            sources.append(source + [0])
        }
        func allocations(_ count: Int) throws -> Int {
            try Self.allocations(of: sources, tokens: count) { inputs, options, outputs in
                try session.generateBatch(sources: inputs, options: options, schedule: BatchSchedule(maxSequences: 4), outputs: outputs)
            }
        }
        _ = try allocations(4)
        #expect(try allocations(8) == allocations(40))
    }

    /// The batched step allocates nothing per token: the arena's carve-outs stay as they were.
    @Test func batchedStepsAllocateNoArenaMemory() throws {
        let sources = try Self.shippedCases().map(\.source)
        let model = try EncoderDecoderLoader.load(directory: Self.verifier)
        let session = try Seq2SeqSession(model: model, sourceCapacity: 128, capacity: 160, threads: 2, maxSequences: 8)
        let before = session.arena.allocationCount
        var options = GenerationOptions()
        options.maxNewTokens = 64
        _ = try Self.batch(session, sources, options: options, schedule: BatchSchedule(maxSequences: 8))
        #expect(session.arena.allocationCount == before)
    }
}

/// Batched generation on decoder-only models (Llama, Mistral's sliding window, Qwen2,
/// GPT-2): the fixture prompt's output equals transformers' greedy ids inside a batch,
/// and every other prompt equals its own one-sequence run.
@Suite struct DecoderBatchDecodingTests {
    @Test(arguments: ["llama_f32", "mistral_f32", "qwen2_f32", "gpt2_f32", "llama_bf16"])
    func batchEqualsTransformersAndOneByOne(name: String) throws {
        let reference = try DecoderReference(directory: Fixtures.decoder(name))
        let model = try ModelLoader.load(directory: Fixtures.decoder(name))
        let session = try Session(model: model, capacity: 64, threads: 2, maxBatch: 16, maxSequences: 4)
        let alone = try Session(model: model, capacity: 64, threads: 2, maxBatch: 16)
        let vocab = Int32(model.config.vocabSize)
        // Prompts of 1 to 30 tokens (longer than max_batch: prefilled in two passes).
        var prompts = [reference.promptIds]
        for (i, length) in [3, 1, 30, 7, 12, 5].enumerated() {
            prompts.append((0..<length).map { Int32((($0 + 1) * 37 + i * 11) % Int(vocab)) })
        }
        prompts.append(reference.promptIds)
        var options = GenerationOptions()
        options.maxNewTokens = reference.greedyIds.count
        options.stopAtEndOfSequence = false
        var sampling = options
        sampling.sampling.temperature = 0.9
        sampling.sampling.topP = 0.9
        for options in [options, sampling] {
            let width = options.maxNewTokens
            var outputs = [Int32](repeating: -1, count: prompts.count * width)
            let results = try prompts.withUnsafeBufferPointers { inputs in
                try outputs.withUnsafeMutableBufferPointer { out in
                    try session.generateBatch(prompts: inputs, options: options, seeds: prompts.indices.map { UInt64($0) },
                                              schedule: BatchSchedule(maxSequences: 4), outputs: out.baseAddress!)
                }
            }
            for (i, prompt) in prompts.enumerated() {
                #expect(results[i].error == nil)
                let tokens = Array(outputs[(i * width)..<(i * width + results[i].count)])
                var own = options
                own.sampling.seed = UInt64(i)
                #expect(tokens == (try alone.generateArray(prompt, options: own)), "\(name) prompt \(i)")
                if options.sampling.isGreedy && prompt == reference.promptIds { #expect(tokens == reference.greedyIds) }
            }
        }
    }
}
