import ArgumentParser
import SpecDecCore
import SpecDecJSON

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
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (prompt == nil) != (promptIds == nil) else { throw ValidationError("give exactly one of --prompt and --prompt-ids") }
    }

    func run() throws {
        do {
            try execute()
        } catch let error as SpecDecError {
            throw report(error, json: json)
        }
    }

    private func execute() throws {
        guard let promptIds else {
            throw SpecDecError.unsupported("--prompt needs a tokenizer, which this build cannot load yet; use --prompt-ids")
        }
        let ids = try parseIds(promptIds, flag: "--prompt-ids")
        let model = try ModelLoader.load(directory: modelOptions.model)
        let session = try Session(model: model, capacity: modelOptions.kvCapacity, threads: modelOptions.threads)
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
        var output = [Int32](repeating: 0, count: max(1, maxNewTokens))
        let result = ids.withUnsafeBufferPointer { prompt in
            output.withUnsafeMutableBufferPointer { out in
                session.generate(prompt: prompt, options: options, output: out.baseAddress!) { _, _ in .proceed }
            }
        }
        if let error = result.error { throw error }
        let tokens = Array(output[0..<result.count])
        let stats = session.stats
        if json {
            let statsObject = JSONObject([
                ("prompt_tokens", .integer(Int64(stats.promptTokens))),
                ("generated_tokens", .integer(Int64(stats.generatedTokens))),
                ("stop_reason", .string(stopReasonName(stats.stopReason))),
                ("prefill_seconds", .double(stats.prefillSeconds)),
                ("decode_seconds", .double(stats.decodeSeconds)),
                ("prefill_tokens_per_second", .double(stats.prefillTokensPerSecond)),
                ("decode_tokens_per_second", .double(stats.decodeTokensPerSecond)),
                ("threads", .integer(Int64(session.pool.threadCount))),
                ("arena_backend", .string(session.arena.backend.name)),
            ])
            print(JSONValue.object(JSONObject([("tokens", idsJSON(tokens)), ("text", .null), ("stats", .object(statsObject))])).serialized)
        } else {
            print(tokens.map(String.init).joined(separator: ","))
            print("\(stats.generatedTokens) tokens, decode \(format(stats.decodeTokensPerSecond)) tokens/s, prefill \(format(stats.prefillTokensPerSecond)) tokens/s, stop: \(stopReasonName(stats.stopReason))")
        }
    }
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
