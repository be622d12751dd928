import SpecDecCore
import Testing

/// Lossless speculative decoding: with greedy acceptance every drafter reproduces plain
/// greedy decoding token for token, trees included.
@Suite struct SpeculativeGreedyTests {
    static let draftModel = Fixtures.decoder("llama_f16")

    enum Kind: String, CaseIterable { case model, ngram, suffix }

    static func drafter(_ kind: Kind, target: Session) throws -> Drafter {
        switch kind {
        case .model:
            return try ModelDrafter(model: try ModelLoader.load(directory: draftModel), target: target.config, capacity: 256, threads: 1)
        case .ngram: return NGramDrafter(minN: 1, maxN: 3)
        case .suffix: return SuffixDrafter(maxDepth: 16, minimumProbability: 0.05)
        }
    }

    static func speculative(_ session: Session, _ prompt: [Int32], count: Int, drafter: Drafter,
                            rule: AcceptanceRule = GreedyAcceptance(), draftLength: Int = 5, adaptive: Bool = false,
                            sampling: SamplingParameters = SamplingParameters()) throws -> [Int32] {
        var options = GenerationOptions()
        options.maxNewTokens = count
        options.stopAtEndOfSequence = false
        options.sampling = sampling
        var spec = SpeculativeOptions()
        spec.draftLength = draftLength
        spec.adaptive = adaptive
        var output = [Int32](repeating: -1, count: count)
        let result = prompt.withUnsafeBufferPointer { p in
            output.withUnsafeMutableBufferPointer { o in
                session.generateSpeculative(prompt: p, options: options, speculative: spec, drafter: drafter, rule: rule,
                                            output: o.baseAddress!) { _, _ in .proceed }
            }
        }
        if let error = result.error { throw error }
        return Array(output[0..<result.count])
    }

    @Test(arguments: Fixtures.decoderNames, Kind.allCases)
    func greedySpeculationEqualsGreedy(_ name: String, _ kind: Kind) throws {
        let model = try ModelLoader.load(directory: Fixtures.decoder(name))
        let reference = try DecoderReference(directory: Fixtures.decoder(name))
        // A prompt that repeats itself gives prompt lookup and the suffix tree something to find.
        let prompt = reference.promptIds + reference.greedyIds.prefix(6) + reference.promptIds
        let plain = try Session(model: model, capacity: 128, threads: 1).greedy(prompt, count: 40)
        let session = try Session(model: model, capacity: 128, threads: 2)
        let drafter = try Self.drafter(kind, target: session)
        let spec = try Self.speculative(session, prompt, count: 40, drafter: drafter)
        #expect(spec == plain)
        #expect(session.stats.targetCalls <= 40)
        #expect(session.stats.acceptedTokens <= session.stats.draftedTokens)
    }

    @Test func topBetaOneEqualsGreedy() throws {
        let model = try ModelLoader.load(directory: Fixtures.decoder("qwen2_f32"))
        let prompt: [Int32] = [5, 6, 7, 8, 5, 6, 7]
        let plain = try Session(model: model, capacity: 64).greedy(prompt, count: 30)
        let session = try Session(model: model, capacity: 64)
        let out = try Self.speculative(session, prompt, count: 30, drafter: NGramDrafter(),
                                       rule: TopBetaToleranceAcceptance(beta: 1, tau: 100))
        #expect(out == plain)
        // A loose rule accepts at least as much as greedy matching does.
        let loose = try Session(model: model, capacity: 64)
        _ = try Self.speculative(loose, prompt, count: 30, drafter: NGramDrafter(), rule: TopBetaToleranceAcceptance(beta: 5, tau: 3))
        #expect(loose.stats.generatedTokens == 30)
    }

    @Test func adaptiveDraftLengthAndDraftLengthZeroStayExact() throws {
        let model = try ModelLoader.load(directory: Fixtures.decoder("llama_f32"))
        let prompt: [Int32] = [9, 10, 11, 9, 10, 11, 9]
        let plain = try Session(model: model, capacity: 128).greedy(prompt, count: 50)
        for (length, adaptive) in [(0, false), (8, true), (1, false)] {
            let session = try Session(model: model, capacity: 128)
            let out = try Self.speculative(session, prompt, count: 50, drafter: SuffixDrafter(), draftLength: length, adaptive: adaptive)
            #expect(out == plain, "draft length \(length), adaptive \(adaptive)")
            if length == 0 { #expect(session.stats.draftedTokens == 0) }
        }
    }

    @Test func stories260KWithItsDraftModel() throws {
        guard FileSystem.isDirectory(Fixtures.stories260K), FileSystem.isDirectory(Fixtures.stories260KDraft) else {
            print("skipped: ../shared/models/stories260K(-draft) absent")
            return
        }
        let golden = try Fixtures.json(Fixtures.stories260K + "/golden.json")
        let target = try ModelLoader.load(directory: Fixtures.stories260K)
        let draftModel = try ModelLoader.load(directory: Fixtures.stories260KDraft)
        for c in golden["cases"]?.arrayValue ?? [] {
            let prompt = (c["prompt_ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
            let expected = (c["greedy_ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
            for kind in Kind.allCases {
                let session = try Session(model: target, capacity: 256, threads: 1)
                let drafter: Drafter = kind == .model
                    ? try ModelDrafter(model: draftModel, target: target.config, capacity: 256, threads: 1)
                    : try Self.drafter(kind, target: session)
                let out = try Self.speculative(session, prompt, count: expected.count, drafter: drafter, draftLength: 4)
                #expect(out == expected, "\(kind) drafter, prompt \(c["prompt"]?.stringValue ?? "")")
                if kind == .model { #expect(session.stats.tokensPerTargetCall > 1.5) }
            }
        }
    }
}

/// Drafts that arrive as trees: the right continuation on a second branch is found, and
/// the cache after committing the path equals the cache of plain decoding.
@Suite struct TreeVerificationTests {
    final class FixedTreeDrafter: Drafter {
        let make: (UnsafeBufferPointer<Int32>) -> Draft
        init(_ make: @escaping (UnsafeBufferPointer<Int32>) -> Draft) { self.make = make }
        var proposesTrees: Bool { true }
        func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
            let d = make(context.tokens)
            draft.tokens = Array(d.tokens.prefix(maxTokens))
            draft.parents = Array(d.parents.prefix(maxTokens))
        }
    }

    @Test func acceptedPathOnASecondBranchMatchesPlainDecoding() throws {
        let model = try ModelLoader.load(directory: Fixtures.decoder("mistral_f32"))
        let prompt: [Int32] = [20, 30, 40]
        let plain = try Session(model: model, capacity: 64).greedy(prompt, count: 12)
        // Tree: two wrong roots, then the right root with a wrong child and the right chain.
        let truth = plain
        let drafter = FixedTreeDrafter { tokens in
            let produced = tokens.count - prompt.count   // tokens generated so far (the newest is pending)
            var d = Draft()
            guard produced + 3 < truth.count else { return d }
            let wrong = { (t: Int32) in (t + 1) % 256 }
            d.tokens = [wrong(truth[produced]), wrong(wrong(truth[produced])), truth[produced], wrong(truth[produced + 1]),
                        truth[produced + 1], truth[produced + 2]]
            d.parents = [-1, -1, -1, 2, 2, 4]
            return d
        }
        let session = try Session(model: model, capacity: 64)
        let out = try SpeculativeGreedyTests.speculative(session, prompt, count: 12, drafter: drafter, draftLength: 6)
        #expect(out == plain)
        #expect(session.stats.acceptedTokens >= 6)
        // The cache holds the sequence as plain decoding would (tree nodes off the path gone).
        let kept = prompt.count + out.count - 1
        #expect(session.length >= kept)
        #expect(Array(UnsafeBufferPointer(start: session.cache.tokens, count: kept)) == prompt + Array(out.dropLast()))
        try session.truncate(to: kept)
        let fresh = try Session(model: model, capacity: 64)
        let reference = try fresh.logitRows(prompt + out)
        let cached = try session.logitRows([out.last!])
        #expect(reference.last! == cached[0])
    }
}

/// Misbehaving drafters are reported, not obeyed.
@Suite struct BadDrafterTests {
    final class BrokenDrafter: Drafter {
        enum Fault { case outOfRange, tooMany, error, badParent }
        let fault: Fault
        init(_ fault: Fault) { self.fault = fault }
        func propose(context: DraftContext, maxTokens: Int, into draft: inout Draft) throws(SpecDecError) {
            switch fault {
            case .outOfRange: draft.appendChain(100_000)
            case .tooMany: for _ in 0...maxTokens { draft.appendChain(3) }
            case .error: throw .init(.callback, "drafter exploded")
            case .badParent: draft.tokens = [3, 4]; draft.parents = [-1, 5]
            }
        }
    }

    @Test(arguments: [BrokenDrafter.Fault.outOfRange, .tooMany, .error, .badParent])
    func faultsBecomeErrorsAndTheSessionStaysUsable(_ fault: BrokenDrafter.Fault) throws {
        let model = try ModelLoader.load(directory: Fixtures.decoder("llama_f32"))
        let session = try Session(model: model, capacity: 64)
        #expect(throws: SpecDecError.self) {
            _ = try SpeculativeGreedyTests.speculative(session, [1, 2, 3], count: 8, drafter: BrokenDrafter(fault))
        }
        let plain = try Session(model: model, capacity: 64).greedy([1, 2, 3], count: 8)
        #expect(try session.greedy([1, 2, 3], count: 8) == plain)
    }

    @Test func incompatibleVocabulariesFailLoudly() throws {
        let target = try ModelLoader.load(directory: Fixtures.decoder("llama_f32"))
        guard FileSystem.isDirectory(Fixtures.stories260K) else { return }
        let other = try ModelLoader.load(directory: Fixtures.stories260K)
        #expect(throws: SpecDecError.self) { _ = try ModelDrafter(model: other, target: target.config, capacity: 64, threads: 1) }
    }
}
