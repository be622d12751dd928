import SpecDecCore
import Testing

/// Encoder-decoder outputs against the references of tools/fixtures/make_seq2seq_fixtures.py:
/// transformers' MarianMTModel / BartForConditionalGeneration (greedy and beam search from
/// generate(), teacher-forced log-probabilities and logits), and for fairseq_f32 a torch forward
/// that follows fairseq's code. Tolerances: log-probabilities and mean-shifted logits within
/// 1e-3; beam scores within 1e-4; token ids identical.
@Suite struct Seq2SeqParityTests {
    static let tolerance = 1e-3

    @Test(arguments: Seq2SeqFixtures.names)
    func configurationMatchesTheReference(_ name: String) throws {
        let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
        let model = try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory(name))
        #expect(model.config.vocabSize == reference.vocabSize)
        #expect(model.config.decoderStartTokenId == reference.decoderStartTokenId)
        #expect(model.config.eosTokenIds == [reference.eosTokenId])
        #expect(try ModelFamily.detect(directory: Seq2SeqFixtures.directory(name)) == .encoderDecoder)
    }

    @Test(arguments: Seq2SeqFixtures.names)
    func teacherForcedLogProbabilitiesMatch(_ name: String) throws {
        let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
        let model = try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory(name))
        // maxBatch 5 makes the 12 target positions run in three chunks.
        let session = try Seq2SeqSession(model: model, sourceCapacity: 32, capacity: 32, threads: 2, maxBatch: 5)
        let ours = try session.teacherForcedLogProbabilities(source: reference.sourceIds, target: reference.targetIds)
        #expect(ours.count == reference.logprobs.count)
        let worst = zip(ours, reference.logprobs).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < Self.tolerance, "max |Δ log p| = \(worst)")
    }

    @Test(arguments: Seq2SeqFixtures.names)
    func logitsMatch(_ name: String) throws {
        let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
        let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory(name)),
                                         sourceCapacity: 32, capacity: 32, threads: 1)
        try session.setSource(reference.sourceIds)
        let inputs = [Int32(reference.decoderStartTokenId)] + reference.targetIds.dropLast()
        let rows = try session.logitRows(inputs)
        #expect(rows.count == reference.logits.count)
        let worst = zip(rows, reference.logits).map { maxShiftedDifference($0, $1) }.max() ?? .infinity
        #expect(worst < Float(Self.tolerance), "max |Δ logit| = \(worst)")
    }

    @Test(arguments: Seq2SeqFixtures.names)
    func encoderOutputMatches(_ name: String) throws {
        let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
        let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory(name)),
                                         sourceCapacity: 16, capacity: 8, threads: 2)
        try session.setSource(reference.sourceIds)
        let d = session.config.hiddenSize
        let ours = session.encoderOutput
        #expect(ours.count == reference.sourceIds.count * d)
        #expect(reference.encoderOutput.count == reference.sourceIds.count)
        var worst: Float = 0
        for (t, row) in reference.encoderOutput.enumerated() {
            for (i, value) in row.enumerated() { worst = max(worst, abs(ours[t * d + i] - value)) }
        }
        #expect(worst < Float(Self.tolerance), "max |Δ encoder output| = \(worst)")
    }

    @Test(arguments: Seq2SeqFixtures.names)
    func greedyIdsMatch(_ name: String) throws {
        let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
        let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory(name)),
                                         sourceCapacity: 32, capacity: 32, threads: 2)
        let ids = try session.greedy(reference.sourceIds, count: reference.maxNewTokens)
        #expect(ids == reference.greedyIds)
        #expect(session.stats.stopReason == (reference.greedyIds.last.map(Int.init) == reference.eosTokenId ? .stopToken : .maxTokens))
    }

    @Test(arguments: Seq2SeqFixtures.transformersNames)
    func beamSearchMatchesTransformers(_ name: String) throws {
        let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
        #expect(reference.beams.count >= 3)
        let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory(name)),
                                         sourceCapacity: 32, capacity: 32, threads: 2)
        for run in reference.beams {
            let ours = try session.beamSearch(source: reference.sourceIds, options: run.options)
            let label = "num_beams \(run.beamCount), length_penalty \(run.lengthPenalty), early_stopping \(run.earlyStopping)"
            #expect(ours.count == run.hypotheses.count, "\(label)")
            for (i, (a, b)) in zip(ours, run.hypotheses).enumerated() {
                #expect(a.tokens == b.tokens, "\(label), hypothesis \(i)")
                #expect(abs(a.score - b.score) < 1e-4, "\(label), hypothesis \(i): score \(a.score) vs \(b.score)")
                #expect(a.endedWithEndToken == b.endedWithEndToken, "\(label), hypothesis \(i)")
            }
        }
        // The encoder ran once for all the runs.
        #expect(session.encoderRuns == 1)
    }

    /// The fixtures exercise both ways a hypothesis ends.
    @Test func fixturesExerciseEndOfSequenceHandling() throws {
        for name in Seq2SeqFixtures.transformersNames {
            let reference = try Seq2SeqReference(directory: Seq2SeqFixtures.directory(name))
            let all = reference.beams.flatMap(\.hypotheses)
            #expect(all.contains { $0.endedWithEndToken }, "\(name)")
            #expect(all.contains { !$0.endedWithEndToken }, "\(name)")
        }
    }
}
