import CSpecDecABI
import SpecDecCore
import Testing

/// Tokenizers and text generation through the C ABI.
@Suite struct CABITextTests {
    let tokenizerDirectory = Fixtures.testsDirectory + "/Fixtures/tokenizers/bytelevel-bpe"

    func load(_ path: String) -> (specdec_status, OpaquePointer?) {
        var tokenizer: OpaquePointer? = nil
        let status = path.withCString { specdec_tokenizer_load($0, &tokenizer) }
        return (status, tokenizer)
    }

    func encode(_ tokenizer: OpaquePointer?, _ text: [UInt8], special: Int32 = 1) -> (specdec_status, [Int32]) {
        var ids = [Int32](repeating: 0, count: 512)
        var n: Int32 = 0
        let status = text.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { specdec_tokenize(tokenizer, $0, b.count, special, &ids, 512, &n) }
        }
        return (status, Array(ids[0..<Int(max(0, min(n, 512)))]))
    }

    func decode(_ tokenizer: OpaquePointer?, _ ids: [Int32]) -> (specdec_status, String) {
        var buffer = [CChar](repeating: 0, count: 4096)
        var length = 0
        let status = specdec_detokenize(tokenizer, ids, Int32(ids.count), 0, &buffer, 4096, &length)
        return (status, status == SPECDEC_OK ? String(cString: buffer) : "")
    }

    /// The first corpus lines encode to the ids the `tokenizers` package recorded.
    @Test func encodesLikeTheReference() throws {
        let (status, tokenizer) = load(tokenizerDirectory + "/tokenizer.json")
        #expect(status == SPECDEC_OK, "\(String(cString: specdec_last_error_message()))")
        defer { specdec_tokenizer_destroy(tokenizer) }
        let corpus = String(decoding: try MappedFile.readAll(Fixtures.testsDirectory + "/Fixtures/tokenizers/corpus.jsonl"), as: UTF8.self)
            .split(separator: "\n").prefix(50)
        let expected = String(decoding: try MappedFile.readAll(tokenizerDirectory + "/ids.txt"), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).prefix(50)
        for (line, ids) in zip(corpus, expected) {
            guard let text = try Fixtures.jsonString(String(line)) else { continue }
            let reference = ids.split(separator: " ").compactMap { Int32($0) }
            let (s, ours) = encode(tokenizer, Array(text.utf8))
            #expect(s == SPECDEC_OK)
            #expect(ours == reference, "line \(text)")
            #expect(decode(tokenizer, ours).1 == text)
        }
    }

    @Test func badInputGetsStatuses() throws {
        let (_, tokenizer) = load(tokenizerDirectory)
        defer { specdec_tokenizer_destroy(tokenizer) }
        #expect(encode(tokenizer, [0x61, 0xFF, 0x62]).0 == SPECDEC_ERR_INVALID_UTF8)
        #expect(String(cString: specdec_last_error_message()).contains("UTF-8"))
        #expect(decode(tokenizer, [1, 999_999]).0 == SPECDEC_ERR_TOKEN_OUT_OF_RANGE)
        var small = [Int32](repeating: 0, count: 1)
        var n: Int32 = 0
        #expect("hello world, hello".withCString { specdec_tokenize(tokenizer, $0, 18, 0, &small, 1, &n) } == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(n > 1)
        var tiny = [CChar](repeating: 0, count: 2)
        var length = 0
        let (_, ids) = encode(tokenizer, Array("hello world".utf8))
        #expect(specdec_detokenize(tokenizer, ids, Int32(ids.count), 0, &tiny, 2, &length) == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(length == 11)
        // Unknown model type, corrupt SentencePiece file, missing file.
        let dir = TemporaryDirectory()
        let json = String(decoding: try MappedFile.readAll(tokenizerDirectory + "/tokenizer.json"), as: UTF8.self)
        dir.write("tokenizer.json", text: json.replacingOccurrences("\"type\": \"BPE\"", "\"type\": \"Mystery\"")
            .replacingOccurrences("\"type\":\"BPE\"", "\"type\":\"Mystery\""))
        #expect(load(dir.path + "/tokenizer.json").0 == SPECDEC_ERR_UNSUPPORTED)
        dir.write("broken.model", [0x0A, 0xFF, 0xFF, 0x01, 0x02])
        #expect(load(dir.path + "/broken.model").0 == SPECDEC_ERR_FORMAT)
        #expect(load("/nonexistent/tokenizer.json").0 == SPECDEC_ERR_IO)
        #expect(specdec_tokenize(nil, nil, 0, 0, nil, 0, nil) == SPECDEC_ERR_INVALID_ARGUMENT)
        var id: Int32 = 0
        #expect(specdec_piece_to_token(tokenizer, "surely-not-a-piece-\u{1F600}", &id) == SPECDEC_ERR_INVALID_ARGUMENT)
    }

    /// stories260K generates golden.json's text from its prompt text, streaming pieces
    /// that concatenate to the whole.
    @Test func generateTextMatchesGolden() throws {
        guard FileSystem.isDirectory(Fixtures.stories260K) else {
            print("skipped: ../shared/models/stories260K absent")
            return
        }
        let golden = try Fixtures.json(Fixtures.stories260K + "/golden.json")
        let first = golden["cases"]!.arrayValue![0]
        var model: OpaquePointer? = nil
        #expect(Fixtures.stories260K.withCString { specdec_model_load($0, nil, &model) } == SPECDEC_OK)
        defer { specdec_model_destroy(model) }
        var session: OpaquePointer? = nil
        #expect(specdec_session_create(model, nil, &session) == SPECDEC_OK)
        defer { specdec_session_destroy(session) }
        var gp = specdec_generate_default_params()
        gp.max_new_tokens = 64
        gp.stop_at_eos = 0
        final class Pieces { var text = ""; var count = 0 }
        let pieces = Pieces()
        var tp = specdec_text_default_params()
        tp.user_data = Unmanaged.passUnretained(pieces).toOpaque()
        tp.on_text = { userData, text, length in
            let p = Unmanaged<Pieces>.fromOpaque(userData!).takeUnretainedValue()
            p.text += String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
            p.count += 1
            return SPECDEC_CALLBACK_CONTINUE
        }
        var out = [CChar](repeating: 0, count: 2048)
        var length = 0
        let prompt = first["prompt"]!.stringValue!
        #expect(specdec_generate_text(session, prompt, &gp, nil, &tp, &out, 2048, &length) == SPECDEC_OK)
        #expect(String(cString: out) == first["greedy_text"]!.stringValue!)
        #expect(pieces.text == String(cString: out) && pieces.count > 10)
        // Speculatively, with a too-small buffer: the text stays retrievable.
        var spec = specdec_speculative_default_params()
        spec.drafter = SPECDEC_DRAFTER_SUFFIX
        var tiny = [CChar](repeating: 0, count: 4)
        #expect(specdec_generate_text(session, prompt, &gp, &spec, &tp, &tiny, 4, &length) == SPECDEC_ERR_BUFFER_TOO_SMALL)
        #expect(specdec_session_text(session, &out, 2048, &length) == SPECDEC_OK)
        #expect(String(cString: out) == first["greedy_text"]!.stringValue!)
    }
}

extension Fixtures {
    /// Decodes one JSON string literal (a corpus line).
    static func jsonString(_ literal: String) throws -> String? {
        try SpecDecJSON.JSONParser.parse(literal).stringValue
    }
}

import SpecDecJSON
