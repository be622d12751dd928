import SpecDecCore
import Testing

/// Speculative decoding on encoder-decoder targets: the decoder is the verifier and
/// drafters see the source. Greedy acceptance reproduces plain greedy translation.
@Suite struct Seq2SeqSpeculativeTests {
    @Test(arguments: Seq2SeqFixtures.names)
    func greedySpeculationEqualsGreedy(_ name: String) throws {
        let directory = Seq2SeqFixtures.directory(name)
        let reference = try Seq2SeqReference(directory: directory)
        let model = try EncoderDecoderLoader.load(directory: directory)
        var options = GenerationOptions()
        options.maxNewTokens = reference.greedyIds.count
        let plain = try Seq2SeqSession(model: model, capacity: 64).generate(source: reference.sourceIds, options: options)
        let drafters: [(String, () -> Drafter)] = [("ngram", { NGramDrafter() }), ("suffix", { SuffixDrafter() })]
        for (label, make) in drafters {
            for rule in [GreedyAcceptance() as AcceptanceRule, TopBetaToleranceAcceptance(beta: 1, tau: 10)] {
                let session = try Seq2SeqSession(model: model, capacity: 64)
                var spec = SpeculativeOptions()
                spec.draftLength = 6
                var output = [Int32](repeating: 0, count: options.maxNewTokens)
                let result = reference.sourceIds.withUnsafeBufferPointer { source in
                    output.withUnsafeMutableBufferPointer { out in
                        session.generateSpeculative(source: source, options: options, speculative: spec, drafter: make(),
                                                    rule: rule, output: out.baseAddress!) { _, _ in .proceed }
                    }
                }
                #expect(result.error == nil)
                #expect(Array(output[0..<result.count]) == plain, "\(name), \(label)")
                #expect(Array(output[0..<result.count]) == reference.greedyIds)
            }
        }
    }

    /// A drafter that proposes the source tokens copied in order: with a model whose
    /// greedy output is not the source, drafts are mostly rejected, and the output is
    /// still exact.
    @Test func drafterSeesTheSource() throws {
        final class SourceCopier: Drafter {
            var sawSource = false
            func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
                sawSource = sawSource || context.source.count > 0
                for t in context.source.prefix(maxTokens) { draft.appendChain(t) }
            }
        }
        let directory = Seq2SeqFixtures.directory("bart_f32")
        let reference = try Seq2SeqReference(directory: directory)
        let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: directory), capacity: 64)
        let copier = SourceCopier()
        var options = GenerationOptions()
        options.maxNewTokens = reference.greedyIds.count
        var output = [Int32](repeating: 0, count: options.maxNewTokens)
        let result = reference.sourceIds.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out in
                session.generateSpeculative(source: source, options: options, speculative: SpeculativeOptions(), drafter: copier,
                                            rule: GreedyAcceptance(), output: out.baseAddress!) { _, _ in .proceed }
            }
        }
        #expect(result.error == nil && copier.sawSource)
        #expect(Array(output[0..<result.count]) == reference.greedyIds)
    }

    /// With separate source and target vocabularies a source id names another piece than the
    /// same target id (and may be outside the target vocabulary): drafters are told.
    @Test func draftersKnowWhetherTheSourceSharesTheTargetVocabulary() throws {
        final class Recorder: Drafter {
            var seen: [Bool] = []
            func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
                seen.append(context.sourceSharesTargetVocabulary)
            }
        }
        for (name, shares) in [("marian_f32", true), ("marian_f16", false), ("bart_f32", true), ("fairseq_f32", false)] {
            let directory = Seq2SeqFixtures.directory(name)
            let reference = try Seq2SeqReference(directory: directory)
            let session = try Seq2SeqSession(model: try EncoderDecoderLoader.load(directory: directory), capacity: 64)
            let recorder = Recorder()
            var options = GenerationOptions()
            options.maxNewTokens = 4
            var output = [Int32](repeating: 0, count: options.maxNewTokens)
            let result = reference.sourceIds.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { out in
                    session.generateSpeculative(source: source, options: options, speculative: SpeculativeOptions(), drafter: recorder,
                                                rule: GreedyAcceptance(), output: out.baseAddress!) { _, _ in .proceed }
                }
            }
            #expect(result.error == nil)
            #expect(!recorder.seen.isEmpty && recorder.seen.allSatisfy { $0 == shares }, "\(name)")
        }
    }

    /// An encoder-decoder draft model: the target drafting for itself is always accepted;
    /// a draft with another vocabulary is refused.
    @Test func encoderDecoderDraftModel() throws {
        let directory = Seq2SeqFixtures.directory("marian_f32")
        let reference = try Seq2SeqReference(directory: directory)
        let model = try EncoderDecoderLoader.load(directory: directory)
        let session = try Seq2SeqSession(model: model, capacity: 64)
        let drafter = try Seq2SeqModelDrafter(model: model, target: model.config, capacity: 64, threads: 1)
        var options = GenerationOptions()
        options.maxNewTokens = reference.greedyIds.count
        var spec = SpeculativeOptions()
        spec.draftLength = 4
        var output = [Int32](repeating: 0, count: options.maxNewTokens)
        let result = reference.sourceIds.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out in
                session.generateSpeculative(source: source, options: options, speculative: spec, drafter: drafter,
                                            rule: GreedyAcceptance(), output: out.baseAddress!) { _, _ in .proceed }
            }
        }
        #expect(result.error == nil)
        #expect(Array(output[0..<result.count]) == reference.greedyIds)
        #expect(session.stats.draftedTokens > 0 && session.stats.acceptedTokens == session.stats.draftedTokens)
        let other = try EncoderDecoderLoader.load(directory: Seq2SeqFixtures.directory("marian_f16"))
        #expect(throws: SpecDecError.self) { _ = try Seq2SeqModelDrafter(model: other, target: model.config, capacity: 64, threads: 1) }
    }

    /// Encoder-decoder draft models on the token-table fixtures: the target drafting for itself
    /// (its drafts accepted), and the same checkpoint with its decoder embedding hidden, which
    /// reads another table and so drafts other tokens. Greedy acceptance keeps transformers'
    /// greedy output either way.
    @Test(arguments: Seq2SeqFixtures.tokenTableNames)
    func tokenTablesWithADraftModel(_ name: String) throws {
        let directory = Seq2SeqFixtures.directory(name)
        let reference = try Seq2SeqReference(directory: directory)
        let model = try EncoderDecoderLoader.load(directory: directory)
        let dir = TemporaryDirectory()
        let hidden = "model.decoder.embed_tokens.weight"
        try dir.copyModel(from: directory, config: { $0.replacingAll("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true") },
                          weights: { $0.replacingFirst("\"\(hidden)\"", with: "\"\(hidden.dropLast())x\"") })
        let drafts = [("itself", model), ("without \(hidden)", try EncoderDecoderLoader.load(directory: dir.path))]
        for (label, draftModel) in drafts {
            let session = try Seq2SeqSession(model: model, capacity: 64)
            let drafter = try Seq2SeqModelDrafter(model: draftModel, target: model.config, capacity: 64, threads: 1)
            var options = GenerationOptions()
            options.maxNewTokens = reference.maxNewTokens
            var spec = SpeculativeOptions()
            spec.draftLength = 4
            var output = [Int32](repeating: 0, count: options.maxNewTokens)
            let result = reference.sourceIds.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { out in
                    session.generateSpeculative(source: source, options: options, speculative: spec, drafter: drafter,
                                                rule: GreedyAcceptance(), output: out.baseAddress!) { _, _ in .proceed }
                }
            }
            #expect(result.error == nil)
            #expect(Array(output[0..<result.count]) == reference.greedyIds, "\(name), draft model \(label)")
            let stats = session.stats
            #expect(stats.draftedTokens > 0)
            if label == "itself" {
                // Every draft is accepted but those of the last round that follow the end token.
                let lost = stats.draftedTokens - stats.acceptedTokens
                let endsWithEOS = reference.greedyIds.last == Int32(reference.eosTokenId)
                #expect(endsWithEOS ? lost >= 0 && lost < spec.draftLength : lost == 0, "\(name): \(stats.acceptedTokens) of \(stats.draftedTokens) accepted")
            } else {
                #expect(stats.acceptedTokens < stats.draftedTokens, "\(name), draft model \(label)")
            }
        }
    }
}
