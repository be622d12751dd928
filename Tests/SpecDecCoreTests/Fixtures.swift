import SpecDecCore
import SpecDecJSON

/// Paths to the committed fixtures and the shared trained models.
enum Fixtures {
    static let testsDirectory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // SpecDecCoreTests/Fixtures.swift
        return parts.joined(separator: "/")
    }()
    static let repositoryRoot: String = {
        var parts = testsDirectory.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/")
    }()
    static let decoderNames = ["llama_f32", "llama_f16", "llama_bf16", "llama_sharded", "mistral_f32", "qwen2_f32", "gpt2_f32", "gpt2_f16"]

    static func decoder(_ name: String) -> String { testsDirectory + "/Fixtures/decoder/" + name }
    static let stories260K = repositoryRoot + "/../shared/models/stories260K"
    static let stories260KDraft = repositoryRoot + "/../shared/models/stories260K-draft"

    static func json(_ path: String) throws -> JSONValue { try JSONParser.parse(try MappedFile.readAll(path)) }
}

/// The reference outputs transformers recorded for one fixture.
struct DecoderReference {
    let promptIds: [Int32]
    let greedyIds: [Int32]
    let scoreIds: [Int32]
    let logprobs: [Double]
    let logits: [[Float]]

    init(directory: String) throws {
        let j = try Fixtures.json(directory + "/reference.json")
        func ids(_ key: String) -> [Int32] { (j[key]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
        promptIds = ids("prompt_ids")
        greedyIds = ids("greedy_ids")
        scoreIds = ids("score_ids")
        logprobs = (j["logprobs"]?.arrayValue ?? []).compactMap(\.doubleValue)
        logits = (j["logits"]?.arrayValue ?? []).map { row in (row.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
    }
}

extension Session {
    /// Greedy generation into an array (test convenience).
    func greedy(_ prompt: [Int32], count: Int, stopAtEOS: Bool = false) throws -> [Int32] {
        var options = GenerationOptions()
        options.maxNewTokens = count
        options.stopAtEndOfSequence = stopAtEOS
        return try generateArray(prompt, options: options)
    }

    func generateArray(_ prompt: [Int32], options: GenerationOptions) throws -> [Int32] {
        var output = [Int32](repeating: -1, count: max(1, options.maxNewTokens))
        let result = prompt.withUnsafeBufferPointer { p in
            output.withUnsafeMutableBufferPointer { o in generate(prompt: p, options: options, output: o.baseAddress!) { _, _ in .proceed } }
        }
        if let error = result.error { throw error }
        return Array(output[0..<result.count])
    }

    /// Evaluates tokens and returns each row of logits.
    func logitRows(_ tokens: [Int32]) throws -> [[Float]] {
        let vocab = config.vocabSize
        var out = [Float](repeating: 0, count: tokens.count * vocab)
        try tokens.withUnsafeBufferPointer { (t) throws(SpecDecError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(SpecDecError) in try evaluate(tokens: t, logits: o.baseAddress!) }
        }
        return (0..<tokens.count).map { Array(out[($0 * vocab)..<(($0 + 1) * vocab)]) }
    }
}
