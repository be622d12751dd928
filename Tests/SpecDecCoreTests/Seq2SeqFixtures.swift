import SpecDecCore
import SpecDecJSON

/// The encoder-decoder fixtures of tools/fixtures/make_seq2seq_fixtures.py.
enum Seq2SeqFixtures {
    /// Made with transformers, with model.shared, model.encoder.embed_tokens,
    /// model.decoder.embed_tokens and lm_head stored (all or some) with distinct values.
    static let tokenTableNames = ["marian_tables_f32", "marian_separate_tables_f32", "bart_tables_f32", "marian_no_shared_f32"]
    /// Made with transformers (beam search included).
    static let transformersNames = ["marian_f32", "marian_f16", "bart_f32"] + tokenTableNames
    /// Every fixture; fairseq_f32 is a converted fairseq checkpoint with a torch reference.
    static let names = transformersNames + ["fairseq_f32"]

    static func directory(_ name: String) -> String { Fixtures.testsDirectory + "/Fixtures/seq2seq/" + name }
}

/// One beam-search run recorded from generate(num_beams=...).
struct BeamReference {
    let beamCount: Int
    let lengthPenalty: Double
    let earlyStopping: BeamEarlyStopping
    let maxNewTokens: Int
    let returnCount: Int
    let hypotheses: [BeamHypothesis]

    var options: BeamSearchOptions {
        var o = BeamSearchOptions()
        o.beamCount = beamCount
        o.lengthPenalty = lengthPenalty
        o.earlyStopping = earlyStopping
        o.maxNewTokens = maxNewTokens
        o.returnCount = returnCount
        return o
    }
}

/// reference.json of one seq2seq fixture.
struct Seq2SeqReference {
    let sourceIds: [Int32]
    let decoderStartTokenId: Int
    let eosTokenId: Int
    let vocabSize: Int
    let maxNewTokens: Int
    let greedyIds: [Int32]
    let targetIds: [Int32]
    let logprobs: [Double]
    let logits: [[Float]]
    let encoderOutput: [[Float]]
    let beams: [BeamReference]

    init(directory: String) throws {
        let j = try Fixtures.json(directory + "/reference.json")
        func ids(_ value: JSONValue?) -> [Int32] { (value?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
        sourceIds = ids(j["source_ids"])
        decoderStartTokenId = j["decoder_start_token_id"]?.intValue ?? -1
        eosTokenId = j["eos_token_id"]?.intValue ?? -1
        vocabSize = j["vocab_size"]?.intValue ?? -1
        maxNewTokens = j["max_new_tokens"]?.intValue ?? 0
        greedyIds = ids(j["greedy_ids"])
        targetIds = ids(j["score_target_ids"])
        logprobs = (j["logprobs"]?.arrayValue ?? []).compactMap(\.doubleValue)
        logits = (j["logits"]?.arrayValue ?? []).map { row in (row.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        encoderOutput = (j["encoder_output"]?.arrayValue ?? []).map { row in (row.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        beams = (j["beam"]?.arrayValue ?? []).map { run in
            let stopping: BeamEarlyStopping
            switch run["early_stopping"] {
            case .bool(true)?: stopping = .whenBeamsFinished
            case .string("never")?: stopping = .never
            default: stopping = .heuristic
            }
            return BeamReference(
                beamCount: run["num_beams"]?.intValue ?? 0,
                lengthPenalty: run["length_penalty"]?.doubleValue ?? 1,
                earlyStopping: stopping,
                maxNewTokens: run["max_new_tokens"]?.intValue ?? 0,
                returnCount: run["num_return_sequences"]?.intValue ?? 1,
                hypotheses: (run["hypotheses"]?.arrayValue ?? []).map { h in
                    BeamHypothesis(tokens: ids(h["tokens"]), score: h["score"]?.doubleValue ?? .nan,
                                   endedWithEndToken: h["ended_with_eos"]?.boolValue ?? false)
                })
        }
    }
}

extension Seq2SeqSession {
    /// Decoder logits of `tokens` appended to the cache, one row per token (test convenience).
    func logitRows(_ tokens: [Int32]) throws -> [[Float]] {
        let vocab = config.vocabSize
        var out = [Float](repeating: 0, count: tokens.count * vocab)
        try tokens.withUnsafeBufferPointer { (t) throws(SpecDecError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(SpecDecError) in try evaluate(tokens: t, logits: o.baseAddress!) }
        }
        return (0..<tokens.count).map { Array(out[($0 * vocab)..<(($0 + 1) * vocab)]) }
    }

    func greedy(_ source: [Int32], count: Int, stopAtEOS: Bool = true) throws -> [Int32] {
        var options = GenerationOptions()
        options.maxNewTokens = count
        options.stopAtEndOfSequence = stopAtEOS
        return try generate(source: source, options: options)
    }
}

/// Largest difference between two logit rows after removing each row's mean (logits are
/// defined up to a constant per row).
func maxShiftedDifference(_ a: [Float], _ b: [Float]) -> Float {
    let ma = a.reduce(0, +) / Float(a.count), mb = b.reduce(0, +) / Float(b.count)
    return zip(a, b).map { abs(($0 - ma) - ($1 - mb)) }.max() ?? .infinity
}
