import Glibc
import SpecDecJSON
@testable import SpecDecTokenizers

/// Access to Tests/Fixtures/tokenizers, written by tools/tokenizers/make_tokenizer_fixtures.py
/// from the reference `tokenizers` and `sentencepiece` packages.
enum TokenizerFixtures {
    static let directory: String = {
        // #filePath is .../Tests/SpecDecTokenizersTests/TokenizerFixtures.swift
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures/tokenizers"
    }()

    static let sharedStories: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/../shared/models/stories260K"
    }()

    /// Tokenizers with reference ids: directory name and the file to load.
    static let huggingFace = ["bytelevel-bpe", "llama3-bpe", "qwen2-bpe", "metaspace-bpe", "metaspace-first-bpe", "unigram",
                              "wordpiece", "precompiled-unigram", "bert-uncased-wordpiece", "albert-unigram", "nmt-nfkc-unigram"]
    static let sentencePiece = ["sp-unigram", "sp-bpe"]

    static func path(_ name: String) -> String { directory + "/" + name }

    static func tokenizerPath(_ name: String) -> String {
        sentencePiece.contains(name) ? path(name + "/tokenizer.model") : path(name + "/tokenizer.json")
    }

    static func load(_ name: String) throws -> any Tokenizer {
        if sentencePiece.contains(name) {
            // The reference ids are sentencepiece's encode(), which adds no BOS.
            return try SentencePieceTokenizer.load(path: tokenizerPath(name), addBOS: false)
        }
        return try TokenizerLoader.load(path: tokenizerPath(name))
    }

    /// Reference rows cover every `lineStride`-th corpus line (meta.json "line_stride").
    static func lineStride(_ name: String) -> Int {
        guard let meta = try? JSONParser.parse(try FileBytes.read(path(name + "/meta.json"))) else { return 1 }
        return meta["line_stride"]?.intValue ?? 1
    }

    /// The corpus lines a fixture's rows refer to.
    static func corpusLines(_ name: String) -> [String] {
        let stride = lineStride(name)
        return Swift.stride(from: 0, to: corpus.count, by: stride).map { corpus[$0] }
    }

    static func readText(_ path: String) throws -> String {
        String(decoding: try FileBytes.read(path), as: UTF8.self)
    }

    static func lines(_ path: String) throws -> [Substring] {
        var lines = try readText(path).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static let corpus: [String] = {
        guard let lines = try? lines(path("corpus.jsonl")) else { return [] }
        return lines.map { (try? JSONParser.parse(String($0)))?.stringValue ?? "<<unparsable corpus line>>" }
    }()

    static func ids(_ path: String) throws -> [[Int32]] {
        try lines(path).map { line in line.split(separator: " ").map { Int32($0) ?? -1 } }
    }

    /// decode.txt: (line, skipSpecialTokens) -> reference text, for lines whose decode
    /// differs from the corpus text.
    static func decodeDifferences(_ path: String) throws -> [Int: [Bool: String]] {
        var result: [Int: [Bool: String]] = [:]
        for line in try lines(path) {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let index = Int(fields[0]),
                  let text = (try? JSONParser.parse(String(fields[2])))?.stringValue else { continue }
            result[index, default: [:]][fields[1] == "1"] = text
        }
        return result
    }

    struct RandomCase {
        var ids: [Int32]
        var text: String
        var skipped: String
    }

    static func randomCases(_ path: String) throws -> [RandomCase] {
        try lines(path).compactMap { line in
            guard let json = try? JSONParser.parse(String(line)), let ids = json["ids"]?.arrayValue,
                  let text = json["text"]?.stringValue, let skipped = json["skip"]?.stringValue else { return nil }
            return RandomCase(ids: ids.compactMap { $0.intValue.map(Int32.init) }, text: text, skipped: skipped)
        }
    }

    static func isDirectory(_ path: String) -> Bool { FileBytes.isDirectory(path) }

    static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return "\"" + out + "\""
    }
}
