import ArgumentParser
import SpecDecCore
import SpecDecJSON

/// Teacher-forced scoring: log p(token_i | tokens before it) for i = 1..n-1.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "score", abstract: "Log-probabilities of a token sequence (perplexity scoring).")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .customLong("prompt-ids"), help: "Token ids, comma-separated.") var promptIds: String?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(name: .customLong("source-ids"), help: "Encoder-decoder models: source token ids, comma-separated.") var sourceIds: String?
    @Option(name: .customLong("target-ids"),
            help: "Encoder-decoder models: target ids to score, comma-separated (the decoder start token is implied).")
    var targetIds: String?

    func validate() throws {
        let seq2seq = sourceIds != nil || targetIds != nil
        guard seq2seq != (promptIds != nil) else { throw ValidationError("give either --prompt-ids, or --source-ids and --target-ids") }
        guard !seq2seq || (sourceIds != nil && targetIds != nil) else { throw ValidationError("--source-ids and --target-ids go together") }
    }

    func run() throws {
        do { try execute() } catch let error as SpecDecError { throw report(error, json: json) }
    }

    private func execute() throws {
        let logprobs: [Double]
        if let seq2seq = try seq2seqLogProbabilities() {
            logprobs = seq2seq
        } else {
            let ids = try parseIds(promptIds ?? "", flag: "--prompt-ids")
            guard ids.count >= 2 else { throw SpecDecError.invalidArgument("scoring needs at least two tokens") }
            let model = try ModelLoader.load(directory: modelOptions.model, options: try modelOptions.precision.loadOptions())
            let session = try Session(model: model, capacity: modelOptions.kvCapacity == 0 ? ids.count : modelOptions.kvCapacity,
                                      threads: modelOptions.threads)
            logprobs = try session.teacherForcedLogProbabilities(ids)
        }
        let total = logprobs.reduce(0, +)
        let perplexity = exp(-total / Double(logprobs.count))
        if json {
            print(JSONValue.object(JSONObject([
                ("logprobs", .array(logprobs.map { .double($0) })),
                ("sum_logprob", .double(total)),
                ("perplexity", .double(perplexity)),
            ])).serialized)
        } else {
            print(logprobs.map { String($0) }.joined(separator: " "))
            print("sum \(total), perplexity \(perplexity)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
