import ArgumentParser
import SpecDecCore
import SpecDecJSON
import SpecDecTokenizers

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate a continuation of a prompt.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Prompt text (needs a tokenizer in the model directory).")
    var prompt: String?

    @Option(name: .customLong("prompt-ids"), help: "Prompt token ids, comma-separated, used verbatim (no BOS added).")
    var promptIds: String?

    @Option(name: .customLong("max-new-tokens")) var maxNewTokens: Int = 64
    @Option(help: "Sampling temperature; greedy when omitted or 0.") var temperature: Float = 0
    @Option(name: .customLong("top-k")) var topK: Int = 0
    @Option(name: .customLong("top-p")) var topP: Float = 1
    @Option(name: .customLong("min-p")) var minP: Float = 0
    @Option(name: .customLong("repetition-penalty")) var repetitionPenalty: Float = 1
    @Option var seed: UInt64 = 0
    @Option(name: .customLong("stop-ids"), help: "Extra stop token ids, comma-separated.") var stopIds: String?
    @Flag(name: .customLong("ignore-eos"), help: "Do not stop at the model's EOS token.") var ignoreEos = false
    @OptionGroup var speculation: SpeculationOptions
    @Flag(help: "Print one JSON object.") var json = false
    @Option(name: .customLong("source-ids"),
            help: "Encoder-decoder models: source token ids, comma-separated (EOS included). The decoder start token is added by the engine and is not part of the output.")
    var sourceIds: String?
    @Option(help: "Encoder-decoder models: beam search with this many beams (1 = greedy or sampling).") var beams: Int = 1
    @Option(name: .customLong("length-penalty"), help: "Beam search: score = sum(log p) / length ** penalty.") var lengthPenalty: Double = 1
    @Option(name: .customLong("num-return"), help: "Beam search: hypotheses to return, best first (<= --beams).") var numReturn: Int = 1
    @Option(name: .customLong("early-stopping"), help: "Beam search: false (heuristic), true or never, as in transformers.")
    var earlyStopping: String = "false"

    @Option(help: "Encoder-decoder models: source text (needs the model's tokenizer).") var source: String?
    @Option(help: "Read one prompt (a source, for encoder-decoder models) per line from FILE ('-' = stdin) and write one result per line, decoding --batch-size at a time.")
    var input: String?
    @Flag(name: .customLong("input-ids"), help: "With --input: each line is comma-separated token ids, not text.") var inputIds = false
    @OptionGroup var batching: BatchingOptions

    func validate() throws {
        guard [prompt != nil, promptIds != nil, sourceIds != nil, source != nil, input != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --prompt, --prompt-ids, --source, --source-ids and --input")
        }
        guard input == nil || beams == 1 else { throw ValidationError("--input decodes greedily, by sampling or speculatively; beam search many sources with `specdec translate --beams`") }
        try validateSeq2SeqOptions()
    }

    func run() throws {
        do { try execute() } catch let error as SpecDecError { throw report(error, json: json) }
    }

    private func execute() throws {
        if let input { return try executeBatch(input) }
        if try runsSeq2Seq() { return }
        let model = try ModelLoader.load(directory: modelOptions.model, options: try modelOptions.precision.loadOptions())
        // Text in, text out when the model directory has a tokenizer.
        var tokenizer: (any Tokenizer)? = nil
        switch loadTokenizer(modelOptions.model) {
        case .success(let loaded): tokenizer = loaded
        case .failure(let error):
            if prompt != nil { throw SpecDecError.unsupported("--prompt needs a tokenizer in \(modelOptions.model): \(error.message)") }
        }
        let ids: [Int32]
        if let promptIds {
            ids = try parseIds(promptIds, flag: "--prompt-ids")
        } else {
            ids = tokenizer!.encode(prompt!, addSpecialTokens: true)
        }
        let session = try Session(model: model, capacity: modelOptions.kvCapacity, threads: modelOptions.threads)
        let options = try generationOptions()
        var output = [Int32](repeating: 0, count: max(1, maxNewTokens))
        let plan = try makeSpeculation(target: session, sampling: options.sampling)
        let result = ids.withUnsafeBufferPointer { prompt in
            output.withUnsafeMutableBufferPointer { out in
                if let (drafterObject, rule, spec) = plan {
                    return session.generateSpeculative(prompt: prompt, options: options, speculative: spec, drafter: drafterObject,
                                                       rule: rule, output: out.baseAddress!) { _, _ in .proceed }
                }
                return session.generate(prompt: prompt, options: options, output: out.baseAddress!) { _, _ in .proceed }
            }
        }
        if let error = result.error { throw error }
        let tokens = Array(output[0..<result.count])
        let stats = session.stats
        var text: JSONValue = .null
        if let tokenizer, tokens.allSatisfy({ Int($0) < tokenizer.vocabSize }) {
            text = (try? tokenizer.decode(tokens, skipSpecialTokens: true)).map { .string($0) } ?? .null
        }
        if json {
            let statsObject = statsJSON(stats, threads: session.pool.threadCount, backend: session.arena.backend, drafter: speculation.drafter)
            print(JSONValue.object(JSONObject([("tokens", idsJSON(tokens)), ("text", text), ("stats", .object(statsObject))])).serialized)
        } else {
            if case .string(let t) = text { print(t) } else { print(tokens.map(String.init).joined(separator: ",")) }
            print("\(stats.generatedTokens) tokens, decode \(format(stats.decodeTokensPerSecond)) tokens/s, prefill \(format(stats.prefillTokensPerSecond)) tokens/s, stop: \(stopReasonName(stats.stopReason))")
        }
    }
}

extension GenerateCommand {
    /// Length, sampling and stop settings from the flags.
    func generationOptions() throws -> GenerationOptions {
        var options = GenerationOptions()
        options.maxNewTokens = maxNewTokens
        options.sampling.temperature = temperature
        options.sampling.topK = topK
        options.sampling.topP = topP
        options.sampling.minP = minP
        options.sampling.repetitionPenalty = repetitionPenalty
        options.sampling.seed = seed
        options.stopTokens = try stopIds.map { try parseIds($0, flag: "--stop-ids") } ?? []
        options.stopAtEndOfSequence = !ignoreEos
        return options
    }

    /// The drafter, acceptance rule and options the flags ask for; nil for plain decoding.
    func makeSpeculation(target: Session, sampling: SamplingParameters) throws -> (Drafter, AcceptanceRule, SpeculativeOptions)? {
        let (rule, spec) = try speculation.settings(sampling: sampling)
        switch speculation.drafter {
        case "none": return nil
        case "ngram": return (NGramDrafter(minN: 1, maxN: speculation.ngramMax), rule, spec)
        case "suffix": return (SuffixDrafter(), rule, spec)
        case "specdec": throw SpecDecError.invalidArgument("--drafter specdec drafts for encoder-decoder targets; \(modelOptions.model) is decoder-only")
        case "model":
            guard let draft = speculation.draft else { throw SpecDecError.invalidArgument("--drafter model needs --draft DIR") }
            let model = try ModelLoader.load(directory: draft, options: try modelOptions.precision.loadOptions())
            return (try ModelDrafter(model: model, target: target.config, capacity: target.capacity, threads: target.pool.threadCount),
                    rule, spec)
        case let other: throw SpecDecError.invalidArgument("--drafter \(other) is not one of none, model, ngram, suffix")
        }
    }
}

/// The `stats` object of `generate --json`, speculative counters included.
func statsJSON(_ stats: GenerationStats, threads: Int, backend: ArenaBackend, drafter: String) -> JSONObject {
    JSONObject([
        ("prompt_tokens", .integer(Int64(stats.promptTokens))),
        ("generated_tokens", .integer(Int64(stats.generatedTokens))),
        ("stop_reason", .string(stopReasonName(stats.stopReason))),
        ("prefill_seconds", .double(stats.prefillSeconds)),
        ("decode_seconds", .double(stats.decodeSeconds)),
        ("prefill_tokens_per_second", .double(stats.prefillTokensPerSecond)),
        ("decode_tokens_per_second", .double(stats.decodeTokensPerSecond)),
        ("threads", .integer(Int64(threads))),
        ("arena_backend", .string(backend.name)),
        ("drafter", .string(drafter)),
        ("target_calls", .integer(Int64(stats.targetCalls))),
        ("tokens_per_target_call", .double(stats.tokensPerTargetCall)),
        ("drafted_tokens", .integer(Int64(stats.draftedTokens))),
        ("accepted_tokens", .integer(Int64(stats.acceptedTokens))),
        ("acceptance_rate", .double(stats.draftedTokens > 0 ? Double(stats.acceptedTokens) / Double(stats.draftedTokens) : 0)),
        ("acceptance_by_depth", .array(stats.acceptanceRateByDepth.map { .double($0) })),
        ("draft_seconds", .double(stats.draftSeconds)),
        ("verify_seconds", .double(stats.verifySeconds)),
        ("sample_seconds", .double(stats.sampleSeconds)),
    ])
}

func stopReasonName(_ reason: StopReason) -> String {
    switch reason {
    case .none: return "none"
    case .maxTokens: return "max_tokens"
    case .stopToken: return "stop_token"
    case .callback: return "callback"
    case .capacity: return "capacity"
    case .error: return "error"
    }
}

func format(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return String(scaled)
}
