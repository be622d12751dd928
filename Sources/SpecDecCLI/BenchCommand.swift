import ArgumentParser
import SpecDecCore
import SpecDecJSON

/// Decode speed and multi-token scoring cost, measured the same way as the reference
/// engines in bench/decoder_bench.py: medians over repeats, prefill excluded.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure decode tokens/s and the cost of scoring 8 tokens vs 1.")

    @Option(help: "Hugging Face model directory.") var model: String
    @Option(help: "Compute threads.") var threads: Int = 1
    @Option(name: .customLong("prompt-len")) var promptLength: Int = 32
    @Option(name: .customLong("decode-tokens")) var decodeTokens: Int = 64
    @Option var repeats: Int = 5
    @Option(name: .customLong("score-iterations"), help: "Timed single passes per scoring size.") var scoreIterations: Int = 30
    @Option(name: .customLong("eval-sizes"), help: "Also time scoring these batch sizes (comma-separated).") var evalSizes: String = ""
    @OptionGroup var precision: PrecisionOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        do { try execute() } catch let error as SpecDecError { throw report(error, json: json) }
    }

    private func execute() throws {
        let loaded = try ModelLoader.load(directory: model, options: try precision.loadOptions())
        let vocab = loaded.config.vocabSize
        let session = try Session(model: loaded, capacity: promptLength + decodeTokens + 16, threads: threads)
        let prompt = (0..<promptLength).map { Int32((($0 * 7919) + 13) % (vocab - 3) + 3) }
        var options = GenerationOptions()
        options.maxNewTokens = decodeTokens
        options.stopAtEndOfSequence = false
        var output = [Int32](repeating: 0, count: decodeTokens)

        var decodeRates: [Double] = []
        for _ in 0...repeats {  // the first run warms caches and page tables
            session.reset()
            let result = prompt.withUnsafeBufferPointer { p in
                output.withUnsafeMutableBufferPointer { o in session.generate(prompt: p, options: options, output: o.baseAddress!) { _, _ in .proceed } }
            }
            if let error = result.error { throw error }
            decodeRates.append(session.stats.decodeTokensPerSecond)
        }
        decodeRates.removeFirst()

        session.reset()
        try prompt.withUnsafeBufferPointer { (p) throws(SpecDecError) in try session.evaluate(tokens: p, logits: nil) }
        let base = session.length
        var logits = [Float](repeating: 0, count: 8 * vocab)
        func timeScoring(_ n: Int) throws(SpecDecError) -> Double {
            let tokens = (0..<n).map { Int32(($0 * 31 + 5) % (vocab - 3) + 3) }
            var samples: [Double] = []
            for i in 0...scoreIterations {
                let start = Clock.now()
                try tokens.withUnsafeBufferPointer { (t) throws(SpecDecError) in
                    try logits.withUnsafeMutableBufferPointer { (l) throws(SpecDecError) in try session.evaluate(tokens: t, logits: l.baseAddress!) }
                }
                let elapsed = Clock.now() - start
                try session.truncate(to: base)
                if i > 0 { samples.append(elapsed) }
            }
            return median(samples)
        }
        var extra: [(String, JSONValue)] = []
        for size in evalSizes.split(separator: ",").compactMap({ Int($0) }) where size >= 1 && size <= 64 {
            if logits.count < size * vocab { logits = [Float](repeating: 0, count: size * vocab) }
            extra.append(("eval\(size)_ms", .double(try timeScoring(size) * 1000)))
        }
        let one = try timeScoring(1)
        let eight = try timeScoring(8)
        let decode = median(decodeRates)
        let object = JSONObject([
            ("engine", .string("libspecdec")), ("threads", .integer(Int64(session.pool.threadCount))),
            ("parameters", .integer(Int64(loaded.parameterCount))), ("hidden_size", .integer(Int64(loaded.config.hiddenSize))),
            ("decode_tokens_per_s", .double(decode)), ("decode_runs", .array(decodeRates.map { .double($0) })),
        ] + weightFields(loaded.weights) + [
            ("eval1_ms", .double(one * 1000)), ("eval8_ms", .double(eight * 1000)), ("eval8_over_eval1", .double(eight / one)),
        ] + extra)
        if json {
            print(JSONValue.object(object).serialized)
        } else {
            print("decode \(format(decode)) tokens/s; eval1 \(one * 1000) ms; eval8 \(eight * 1000) ms; ratio \(eight / one)")
        }
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
