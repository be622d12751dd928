import ArgumentParser
import SpecDecCore
import SpecDecJSON
import SpecDecTokenizers

/// `specdec generate --input FILE`: many prompts (or sources) in, one result line each, in
/// order. Greedy decoding and sampling run --batch-size sequences per model pass; with a
/// drafter each input is decoded speculatively on its own.
extension GenerateCommand {
    func executeBatch(_ path: String) throws {
        let lines = try readInputLines(path)
        let options = try generationOptions()
        let load = try modelOptions.precision.loadOptions()
        let encoderDecoder = modelFamily(modelOptions.model) == .encoderDecoder
        let tokenizers = loadTokenizers(encoderDecoder: encoderDecoder)
        if !inputIds, tokenizers.input == nil {
            throw SpecDecError.unsupported("--input reads text, which needs a tokenizer in \(modelOptions.model) (or give --input-ids)")
        }
        var inputs: [[Int32]] = []
        for (i, line) in lines.enumerated() {
            if inputIds {
                do { inputs.append(try parseIds(line, flag: "line \(i + 1)")) } catch { inputs.append([]) }
            } else {
                inputs.append(tokenizers.input!.encode(line, addSpecialTokens: true))
            }
        }
        let width = max(1, options.maxNewTokens)
        var outputs = [Int32](repeating: 0, count: max(1, inputs.count) * width)
        let started = Clock.now()
        let (results, threads) = try decode(inputs, options: options, load: load, encoderDecoder: encoderDecoder, outputs: &outputs)
        let seconds = Clock.now() - started
        let sink = try OutputSink(path: nil)
        var failures = 0, tokens = 0
        for (i, result) in results.enumerated() {
            if let error = result.error {
                failures += 1
                writeStandardError("line \(i + 1): \(error.message)\n")
                sink.write(json ? JSONValue.object(JSONObject([("line", .integer(Int64(i + 1))), ("error", .string(error.message))])).serialized : "")
                continue
            }
            let ids = Array(outputs[(i * width)..<(i * width + result.count)])
            tokens += ids.count
            let text = tokenizers.output.flatMap { t in ids.allSatisfy({ Int($0) < t.vocabSize }) ? try? t.decode(ids, skipSpecialTokens: true) : nil }
            if json {
                sink.write(JSONValue.object(JSONObject([
                    ("line", .integer(Int64(i + 1))), ("tokens", idsJSON(ids)), ("text", text.map { .string($0) } ?? .null),
                    ("stop_reason", .string(stopReasonName(result.stopReason))),
                ])).serialized)
            } else {
                sink.write(text ?? ids.map(String.init).joined(separator: ","))
            }
        }
        writeStandardError("generated for \(results.count) inputs (\(tokens) tokens) in \(format(seconds)) s: "
                           + "\(format(seconds > 0 ? Double(results.count) / seconds : 0)) inputs/s, "
                           + "\(format(seconds > 0 ? Double(tokens) / seconds : 0)) tokens/s, \(threads) threads, batch size \(batching.batchSize)"
                           + (failures > 0 ? "; \(failures) failed" : "") + "\n")
        if failures > 0 { throw ExitCode(1) }
    }

    /// The tokenizer that reads the input lines and the one that writes the results (a
    /// Marian directory has one of each).
    private func loadTokenizers(encoderDecoder: Bool) -> (input: (any Tokenizer)?, output: (any Tokenizer)?) {
        if encoderDecoder, let pair = try? TokenizerLoader.loadPair(path: modelOptions.model) { return (pair.source, pair.target) }
        if case .success(let tokenizer) = loadTokenizer(modelOptions.model) { return (tokenizer, tokenizer) }
        return (nil, nil)
    }

    private func decode(_ inputs: [[Int32]], options: GenerationOptions, load: LoadOptions, encoderDecoder: Bool,
                        outputs: inout [Int32]) throws -> ([BatchSequenceResult], Int) {
        let sequences = speculation.isSpeculative && !(encoderDecoder && speculation.draftsForBatches) ? 1 : batching.batchSize
        let schedule = batching.schedule
        return try inputs.withUnsafeBufferPointers { buffers in
            try outputs.withUnsafeMutableBufferPointer { out in
                if encoderDecoder {
                    let model = try EncoderDecoderLoader.load(directory: modelOptions.model, options: load)
                    let session = try Seq2SeqSession(model: model, capacity: modelOptions.kvCapacity, threads: modelOptions.threads,
                                                     maxBatch: batching.maxBatch, maxSequences: sequences)
                    var alone: BatchDecodeAlone?
                    if speculation.isSpeculative {
                        let (rule, spec) = try speculation.settings(sampling: options.sampling)
                        let drafter = try speculation.seq2seqDrafter(for: session, load: load)
                        if let batched = BatchSpeculation(drafter: drafter, rule: rule, speculative: spec) {
                            // SpecDec: one Spec-Drafter pass and one decoder pass per round for the batch.
                            let results = try session.generateSpeculativeBatch(sources: buffers, options: options, schedule: schedule,
                                                                               speculation: batched, outputs: out.baseAddress!)
                            return (results, session.pool.threadCount)
                        }
                        alone = { i, options, output in
                            session.generateSpeculative(source: buffers[i], prefix: UnsafeBufferPointer(start: nil, count: 0), options: options,
                                                        speculative: spec, drafter: drafter, rule: rule, output: output) { _, _ in .proceed }
                        }
                    }
                    let results = try session.generateBatch(sources: buffers, options: options, schedule: schedule,
                                                            outputs: out.baseAddress!, decodeAlone: alone)
                    return (results, session.pool.threadCount)
                }
                let model = try ModelLoader.load(directory: modelOptions.model, options: load)
                let session = try Session(model: model, capacity: modelOptions.kvCapacity, threads: modelOptions.threads,
                                          maxBatch: batching.maxBatch, maxSequences: sequences)
                var alone: BatchDecodeAlone?
                if let (drafter, rule, spec) = try makeSpeculation(target: session, sampling: options.sampling) {
                    alone = { i, options, output in
                        session.generateSpeculative(prompt: buffers[i], options: options, speculative: spec, drafter: drafter,
                                                    rule: rule, output: output) { _, _ in .proceed }
                    }
                }
                let results = try session.generateBatch(prompts: buffers, options: options, schedule: schedule,
                                                        outputs: out.baseAddress!, decodeAlone: alone)
                return (results, session.pool.threadCount)
            }
        }
    }
}
