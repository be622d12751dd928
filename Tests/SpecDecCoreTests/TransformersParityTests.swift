import SpecDecCore
import Testing

/// Our outputs against the ones transformers recorded (tools/fixtures/make_decoder_fixtures.py).
/// Tolerance: teacher-forced log-probabilities within 1e-3 (fp32 compute; the fixtures'
/// half-precision weights are widened to fp32 by both sides), logits within 1e-3 after
/// removing each row's mean, greedy ids identical.
@Suite struct TransformersParityTests {
    static let tolerance = 1e-3

    @Test(arguments: Fixtures.decoderNames)
    func greedyIdsMatch(_ name: String) throws {
        let reference = try DecoderReference(directory: Fixtures.decoder(name))
        let session = try Session(model: try ModelLoader.load(directory: Fixtures.decoder(name)), capacity: 64, threads: 2)
        #expect(try session.greedy(reference.promptIds, count: reference.greedyIds.count) == reference.greedyIds)
    }

    @Test(arguments: Fixtures.decoderNames)
    func teacherForcedLogProbabilitiesMatch(_ name: String) throws {
        let reference = try DecoderReference(directory: Fixtures.decoder(name))
        let session = try Session(model: try ModelLoader.load(directory: Fixtures.decoder(name)), capacity: 64, threads: 2, maxBatch: 5)
        let ours = try session.teacherForcedLogProbabilities(reference.scoreIds)
        #expect(ours.count == reference.logprobs.count)
        let worst = zip(ours, reference.logprobs).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < Self.tolerance, "max |Δ log p| = \(worst)")
    }

    @Test(arguments: Fixtures.decoderNames)
    func logitsMatch(_ name: String) throws {
        let reference = try DecoderReference(directory: Fixtures.decoder(name))
        let session = try Session(model: try ModelLoader.load(directory: Fixtures.decoder(name)), capacity: 64, threads: 1)
        let rows = try session.logitRows(reference.scoreIds)
        var worst: Float = 0
        for (ours, theirs) in zip(rows, reference.logits) {
            let shiftOurs = ours.reduce(0, +) / Float(ours.count), shiftTheirs = theirs.reduce(0, +) / Float(theirs.count)
            for (a, b) in zip(ours, theirs) { worst = max(worst, abs((a - shiftOurs) - (b - shiftTheirs))) }
        }
        #expect(worst < Float(Self.tolerance), "max |Δ logit| = \(worst)")
    }

    @Test func shardedModelEqualsSingleFile() throws {
        let a = try Session(model: try ModelLoader.load(directory: Fixtures.decoder("llama_sharded")), capacity: 32)
        let b = try Session(model: try ModelLoader.load(directory: Fixtures.decoder("llama_f32")), capacity: 32)
        let ids: [Int32] = [5, 9, 200, 17]
        #expect(try a.logitRows(ids) == b.logitRows(ids))
    }
}

/// The trained stories260K model from ../shared/models reproduces transformers' golden
/// continuations token for token.
@Suite struct Stories260KGoldenTests {
    @Test func goldenContinuations() throws {
        guard FileSystem.isDirectory(Fixtures.stories260K) else {
            print("skipped: \(Fixtures.stories260K) is absent (the shared trained models are not on this machine)")
            return
        }
        let golden = try Fixtures.json(Fixtures.stories260K + "/golden.json")
        let cases = golden["cases"]?.arrayValue ?? []
        #expect(!cases.isEmpty)
        let session = try Session(model: try ModelLoader.load(directory: Fixtures.stories260K), capacity: 256, threads: 2)
        for c in cases {
            let prompt = (c["prompt_ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
            let expected = (c["greedy_ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
            #expect(try session.greedy(prompt, count: expected.count) == expected, "prompt \(c["prompt"]?.stringValue ?? "")")
        }
    }
}
