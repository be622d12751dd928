import ArgumentParser
import SpecDecCore

/// The speculative-decoding flags `generate` and `translate` share: drafter, draft length
/// and acceptance rule.
struct SpeculationOptions: ParsableArguments {
    @Option(help: "Speculative decoding: none, model, ngram, suffix, or specdec (encoder-decoder targets; --draft is a Spec-Drafter).") var drafter: String = "none"
    @Option(help: "Draft model directory (--drafter model or specdec).") var draft: String?
    @Option(name: .customLong("draft-len"), help: "Most draft tokens per round (default: the Spec-Drafter's k with --drafter specdec, else 5).")
    var draftLength: Int?
    @Option(help: "Acceptance rule: greedy, sample or topk.") var accept: String?
    @Option(help: "SpecDec top-beta (--accept topk).") var beta: Int = 5
    @Option(help: "SpecDec tolerance tau (--accept topk).") var tau: Float = 3
    @Option(name: .customLong("ngram-max"), help: "Longest n-gram prompt lookup matches.") var ngramMax: Int = 3
    @Flag(help: "Adapt the draft length and fall back to plain steps when speculation does not pay.") var adaptive = false

    var isSpeculative: Bool { drafter != "none" }
    /// Whether a batch of sentences can speculate together: the Spec-Drafter drafts for all
    /// of them in one pass (the other drafters hold one sentence's state).
    var draftsForBatches: Bool { drafter == "specdec" && !adaptive }

    /// The acceptance rule and speculative options the flags ask for.
    func settings(sampling: SamplingParameters) throws -> (AcceptanceRule, SpeculativeOptions) {
        let rule: AcceptanceRule
        switch accept ?? (sampling.isGreedy ? "greedy" : "sample") {
        case "greedy": rule = GreedyAcceptance()
        case "sample": rule = SpeculativeSamplingAcceptance()
        case "topk":
            guard beta >= 1, tau >= 0 else { throw SpecDecError.invalidArgument("--beta must be >= 1 and --tau >= 0") }
            rule = TopBetaToleranceAcceptance(beta: beta, tau: tau)
        case let other: throw SpecDecError.invalidArgument("--accept \(other) is not one of greedy, sample, topk")
        }
        var spec = SpeculativeOptions()
        spec.draftLength = try resolvedDraftLength()
        spec.adaptive = adaptive
        return (rule, spec)
    }

    /// --draft-len, or by default the k a Spec-Drafter was trained for (its mask slots are
    /// positional, so no other length works) and 5 for the other drafters.
    func resolvedDraftLength() throws -> Int {
        if let draftLength {
            guard draftLength >= 0 else { throw SpecDecError.invalidArgument("--draft-len must be >= 0") }
            return draftLength
        }
        if drafter == "specdec", let draft { return try SpecDrafterConfig.load(directory: draft).blockSize }
        return 5
    }

    /// A drafter for an encoder-decoder target: drafters that read the source, or a smaller
    /// encoder-decoder model.
    func seq2seqDrafter(for session: Seq2SeqSession, load: LoadOptions) throws -> Drafter {
        switch drafter {
        case "ngram": return NGramDrafter(minN: 1, maxN: ngramMax)
        case "suffix": return SuffixDrafter()
        case "specdec":
            guard let draft else { throw SpecDecError.invalidArgument("--drafter specdec needs --draft DIR (a Spec-Drafter)") }
            return try SpecDecDrafter(model: try SpecDrafterModel(directory: draft, options: load), target: session.config,
                                      requestedLength: try resolvedDraftLength(), pool: session.pool)
        case "model":
            guard let draft else { throw SpecDecError.invalidArgument("--drafter model needs --draft DIR") }
            return try Seq2SeqModelDrafter(model: try EncoderDecoderLoader.load(directory: draft, options: load), target: session.config,
                                           capacity: session.capacity, threads: session.pool.threadCount)
        case let other: throw SpecDecError.invalidArgument("--drafter \(other) is not one of none, model, ngram, suffix, specdec")
        }
    }
}
