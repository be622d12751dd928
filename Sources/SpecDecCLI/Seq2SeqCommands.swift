import ArgumentParser
import SpecDecCore
import SpecDecJSON
import SpecDecTokenizers

/// The encoder-decoder side of `specdec generate` and `specdec score`: --source-ids, beam search.
/// A directory whose family cannot be detected takes the decoder-only path, whose loader
/// reports the problem as before.
func modelFamily(_ directory: String) -> ModelFamily { (try? ModelFamily.detect(directory: directory)) ?? .decoderOnly }

extension GenerateCommand {
    func validateSeq2SeqOptions() throws {
        guard beams >= 1 else { throw ValidationError("--beams must be >= 1") }
        guard numReturn >= 1, numReturn <= beams else { throw ValidationError("--num-return must be in 1...--beams") }
        guard ["false", "true", "never"].contains(earlyStopping) else { throw ValidationError("--early-stopping must be false, true or never") }
    }

    /// Runs an encoder-decoder model when the directory holds one (or --source-ids asks for it);
    /// false when the decoder-only path should run.
    func runsSeq2Seq() throws -> Bool {
        let family = modelFamily(modelOptions.model)
        guard family == .encoderDecoder || sourceIds != nil || source != nil else {
            if beams > 1 { throw SpecDecError.unsupported("--beams is supported for encoder-decoder models only") }
            return false
        }
        guard family == .encoderDecoder else {
            throw SpecDecError.invalidArgument("--source/--source-ids are for encoder-decoder models; \(modelOptions.model) holds a decoder-only model: use --prompt or --prompt-ids")
        }
        // Marian directories have separate source and target tokenizers.
        let tokenizers = try? TokenizerLoader.loadPair(path: modelOptions.model)
        let ids: [Int32]
        if let sourceIds {
            ids = try parseIds(sourceIds, flag: "--source-ids")
        } else if let source {
            guard let tokenizers else { throw SpecDecError.unsupported("--source needs a tokenizer in \(modelOptions.model)") }
            ids = tokenizers.source.encode(source, addSpecialTokens: true)
        } else {
            throw SpecDecError.invalidArgument("\(modelOptions.model) holds an encoder-decoder model: give the source with --source or --source-ids")
        }
        try executeSeq2Seq(source: ids, outputTokenizer: tokenizers?.target)
        return true
    }

    /// Greedy decoding, sampling or beam search; prints the same JSON keys as the decoder-only
    /// path, plus "hypotheses" (tokens, score, ended_with_eos) for beam search.
    private func executeSeq2Seq(source: [Int32], outputTokenizer: (any Tokenizer)?) throws {
        let model = try EncoderDecoderLoader.load(directory: modelOptions.model, options: try modelOptions.precision.loadOptions())
        let session = try Seq2SeqSession(model: model, sourceCapacity: min(source.count, model.config.maxSourcePositions),
                                         capacity: modelOptions.kvCapacity, threads: modelOptions.threads)
        let stops = try stopIds.map { try parseIds($0, flag: "--stop-ids") } ?? []
        var tokens: [Int32]
        var hypotheses: [BeamHypothesis] = []
        if beams > 1 {
            var options = BeamSearchOptions()
            options.beamCount = beams
            options.maxNewTokens = min(maxNewTokens, min(session.capacity, model.config.contextLength) - 1)
            options.lengthPenalty = lengthPenalty
            options.returnCount = numReturn
            options.earlyStopping = earlyStopping == "true" ? .whenBeamsFinished : earlyStopping == "never" ? .never : .heuristic
            options.endTokens = (ignoreEos ? [] : model.config.eosTokenIds.map { Int32($0) }) + stops
            hypotheses = try session.beamSearch(source: source, options: options)
            tokens = hypotheses.first?.tokens ?? []
        } else {
            let options = try generationOptions()
            if speculation.isSpeculative {
                let (rule, spec) = try speculation.settings(sampling: options.sampling)
                let drafter = try speculation.seq2seqDrafter(for: session, load: try modelOptions.precision.loadOptions())
                tokens = try session.generateSpeculative(source: source, options: options, speculative: spec, drafter: drafter, rule: rule)
            } else {
                tokens = try session.generate(source: source, options: options)
            }
        }
        var text: JSONValue = .null
        if let outputTokenizer, tokens.allSatisfy({ Int($0) < outputTokenizer.vocabSize }) {
            text = (try? outputTokenizer.decode(tokens, skipSpecialTokens: true)).map { .string($0) } ?? .null
        }
        let stats = session.stats
        if json {
            var statsObject = statsJSON(stats, threads: session.pool.threadCount, backend: session.arena.backend, drafter: speculation.drafter)
            statsObject["beams"] = .integer(Int64(beams))
            var pairs: [(String, JSONValue)] = [("tokens", idsJSON(tokens)), ("text", text), ("stats", .object(statsObject))]
            if beams > 1 {
                pairs.append(("hypotheses", .array(hypotheses.map { h in
                    .object(JSONObject([("tokens", idsJSON(h.tokens)), ("score", .double(h.score)), ("ended_with_eos", .bool(h.endedWithEndToken))]))
                })))
            }
            print(JSONValue.object(JSONObject(pairs)).serialized)
        } else {
            if case .string(let t) = text { print(t) } else { print(tokens.map(String.init).joined(separator: ",")) }
            if hypotheses.count > 1 {
                for (i, h) in hypotheses.enumerated() {
                    print("hypothesis \(i): score \(h.score)\(h.endedWithEndToken ? ", eos" : ""): \(h.tokens.map(String.init).joined(separator: ","))")
                }
            }
            print("\(stats.generatedTokens) tokens, decode \(format(stats.decodeTokensPerSecond)) tokens/s, prefill \(format(stats.prefillTokensPerSecond)) tokens/s, stop: \(stopReasonName(stats.stopReason))")
        }
    }
}

extension ScoreCommand {
    /// Teacher-forced log-probabilities of --target-ids given --source-ids; nil for --prompt-ids.
    func seq2seqLogProbabilities() throws -> [Double]? {
        let family = modelFamily(modelOptions.model)
        guard let sourceIds, let targetIds else {
            if family == .encoderDecoder {
                throw SpecDecError.invalidArgument("\(modelOptions.model) holds an encoder-decoder model: score with --source-ids and --target-ids")
            }
            return nil
        }
        guard family == .encoderDecoder else {
            throw SpecDecError.invalidArgument("--source-ids/--target-ids are for encoder-decoder models; \(modelOptions.model) holds a decoder-only model: use --prompt-ids")
        }
        let source = try parseIds(sourceIds, flag: "--source-ids"), target = try parseIds(targetIds, flag: "--target-ids")
        let model = try EncoderDecoderLoader.load(directory: modelOptions.model, options: try modelOptions.precision.loadOptions())
        let capacity = modelOptions.kvCapacity == 0 ? min(target.count, model.config.contextLength) : modelOptions.kvCapacity
        let session = try Seq2SeqSession(model: model, sourceCapacity: min(source.count, model.config.maxSourcePositions),
                                         capacity: capacity, threads: modelOptions.threads)
        return try session.teacherForcedLogProbabilities(source: source, target: target)
    }
}
