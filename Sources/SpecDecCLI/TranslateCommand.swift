import ArgumentParser
import SpecDecCore
import SpecDecJSON
import SpecDecTokenizers
#if canImport(Glibc)
import Glibc
#endif

/// `specdec translate`: batch translation of a file or stdin with an encoder-decoder model,
/// one output line per input line, as Marian's and CTranslate2's command lines do.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate sentences line by line with an encoder-decoder model.",
        discussion: """
            Reads one sentence per line from --input (or stdin) and writes one translation per \
            line to --output (or stdout), in order. A progress bar goes to stderr when it is a \
            terminal; a summary (sentences/s, tokens/s, speculation statistics) always does. A \
            line that fails keeps its place as an empty line (or a JSON "error") and makes the \
            exit status 1.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var speculation: SpeculationOptions
    @OptionGroup var batching: BatchingOptions

    @Option(help: "Input file, one sentence per line (default: stdin).") var input: String?
    @Option(help: "Output file (default: stdout).") var output: String?
    @Option(name: .customLong("max-new-tokens"), help: "Most target tokens per sentence.") var maxNewTokens: Int = 256
    @Option(help: "Beam search with this many beams (1 = greedy or speculative).") var beams: Int = 1
    @Option(name: .customLong("length-penalty"), help: "Beam search: score = sum(log p) / length ** penalty.") var lengthPenalty: Double = 1
    @Flag(help: "Write one JSON object per line: source, translation, tokens and the sentence's statistics.") var json = false
    @Flag(help: "No progress bar.") var quiet = false

    func validate() throws {
        guard beams >= 1 else { throw ValidationError("--beams must be >= 1") }
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be >= 1") }
        guard beams == 1 || !speculation.isSpeculative else { throw ValidationError("--beams and --drafter exclude each other") }
    }

    func run() throws {
        do { try execute() } catch let error as SpecDecError { throw report(error, json: json) }
    }

    private func execute() throws {
        let lines = try readInputLines(input)
        let load = try modelOptions.precision.loadOptions()
        let model = try EncoderDecoderLoader.load(directory: modelOptions.model, options: load)
        let tokenizers: TokenizerPair
        do throws(TokenizerError) { tokenizers = try TokenizerLoader.loadPair(path: modelOptions.model) } catch {
            throw SpecDecError.unsupported("translate needs the model's tokenizer in \(modelOptions.model): \(error.message)")
        }
        let batched = batching.batchSize > 1 && beams == 1 && (!speculation.isSpeculative || speculation.draftsForBatches)
        let session = try Seq2SeqSession(model: model, sourceCapacity: model.config.maxSourcePositions,
                                         capacity: modelOptions.kvCapacity, threads: modelOptions.threads,
                                         maxBatch: batching.maxBatch, maxSequences: batched ? batching.batchSize : 1)
        let translator = try SentenceTranslator(session: session, speculation: speculation, load: load, beams: beams,
                                                lengthPenalty: lengthPenalty, maxNewTokens: maxNewTokens)
        let sink = try OutputSink(path: output)
        var progress = ProgressBar(total: lines.count, enabled: !quiet && isatty(2) != 0)
        var summary = TranslationSummary()
        var start = 0
        while start < lines.count {
            let group = start..<min(lines.count, start + (batched ? batching.inputsPerCall : 1))
            let began = Clock.now()
            let outcomes = translator.translate(group.map { tokenizers.source.encode(lines[$0], addSpecialTokens: true) },
                                                schedule: batched ? batching.schedule : nil)
            let seconds = (Clock.now() - began) / Double(group.count)
            if batched { summary.addBatchCall(session.stats) }
            for (index, outcome) in zip(group, outcomes) {
                do {
                    let (tokens, stats) = try outcome.get()
                    let text = try tokenizers.target.decode(tokens, skipSpecialTokens: true)
                    summary.add(stats, seconds: seconds)
                    sink.write(json ? sentenceJSON(index, lines[index], text, tokens, stats, seconds: seconds) : text)
                } catch {
                    summary.failures += 1
                    let message = (error as? SpecDecError)?.message ?? (error as? TokenizerError)?.message ?? "\(error)"
                    writeStandardError("\r\u{1B}[Kline \(index + 1): \(message)\n")
                    sink.write(json ? JSONValue.object(JSONObject([("line", .integer(Int64(index + 1))), ("error", .string(message))])).serialized : "")
                }
            }
            start = group.upperBound
            progress.advance(done: start, summary: summary)
        }
        progress.finish()
        writeStandardError(summary.report(threads: session.pool.threadCount, drafter: speculation.drafter) + "\n")
        if summary.failures > 0 { throw ExitCode(1) }
    }

    private func sentenceJSON(_ index: Int, _ source: String, _ text: String, _ tokens: [Int32], _ stats: GenerationStats,
                              seconds: Double) -> String {
        JSONValue.object(JSONObject([
            ("line", .integer(Int64(index + 1))), ("source", .string(source)), ("translation", .string(text)),
            ("tokens", idsJSON(tokens)),
            ("stats", .object(JSONObject([
                ("generated_tokens", .integer(Int64(stats.generatedTokens))),
                ("target_calls", .integer(Int64(stats.targetCalls))),
                ("drafted_tokens", .integer(Int64(stats.draftedTokens))),
                ("accepted_tokens", .integer(Int64(stats.acceptedTokens))),
                ("seconds", .double(seconds)),
            ]))),
        ])).serialized
    }
}
