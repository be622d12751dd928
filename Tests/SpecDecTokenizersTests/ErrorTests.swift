import Glibc
import XCTest
@testable import SpecDecTokenizers

/// Bad input is an error with the right kind, never a crash.
final class ErrorTests: XCTestCase {
    func expectError(_ kind: TokenizerError.Kind, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected a \(kind) error", file: file, line: line)
        } catch let error as TokenizerError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    func scratchFile(_ name: String, _ bytes: [UInt8]) -> String {
        let path = "/tmp/specdec-tokenizer-test-\(getpid())-\(name)"
        let file = fopen(path, "wb")
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
        fclose(file)
        return path
    }

    /// A vocabulary id far beyond the entry count (it would size the id table at gigabytes)
    /// is a format error for every vocabulary kind that builds one: BPE, WordPiece and
    /// WordLevel in tokenizer.json, and a Marian vocab.json; a dense vocabulary still loads.
    func testSparseVocabularyIdsAreRefused() throws {
        let models = [
            #"{"type": "BPE", "vocab": {"a": 0, "b": ID}, "merges": []}"#,
            #"{"type": "WordPiece", "unk_token": "a", "vocab": {"a": 0, "b": ID}}"#,
            #"{"type": "WordLevel", "unk_token": "a", "vocab": {"a": 0, "b": ID}}"#,
        ]
        for (i, model) in models.enumerated() {
            for id in ["2000000000", "16777216", "3000"] {
                let json = #"{"version": "1.0", "model": "# + model.replacingOccurrences(of: "ID", with: id) + "}"
                let path = scratchFile("sparse-\(i)-\(id).json", Array(json.utf8))
                defer { unlink(path) }
                expectError(.format) { _ = try TokenizerLoader.load(path: path) }
            }
            let dense = #"{"version": "1.0", "model": "# + model.replacingOccurrences(of: "ID", with: "1") + "}"
            let path = scratchFile("dense-\(i).json", Array(dense.utf8))
            defer { unlink(path) }
            XCTAssertNoThrow(try TokenizerLoader.load(path: path))
        }
        let directory = "/tmp/specdec-marian-sparse-\(getpid())"
        mkdir(directory, 0o755)
        defer {
            for file in ["source.spm", "target.spm", "vocab.json"] { unlink(directory + "/" + file) }
            rmdir(directory)
        }
        symlink(TokenizerFixtures.path("sp-unigram/tokenizer.model"), directory + "/source.spm")
        symlink(TokenizerFixtures.path("sp-bpe/tokenizer.model"), directory + "/target.spm")
        let vocab = #"{"</s>": 0, "<unk>": 1, "<pad>": 2147483000}"#
        let file = fopen(directory + "/vocab.json", "wb")
        _ = vocab.withCString { fputs($0, file) }
        fclose(file)
        expectError(.format) { _ = try TokenizerLoader.loadPair(path: directory) }
    }

    func testInvalidUTF8Input() throws {
        for name in ["bytelevel-bpe", "sp-unigram"] {
            let tokenizer = try TokenizerFixtures.load(name)
            for bad: [UInt8] in [[0xFF], [0x61, 0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x61, 0x80, 0x62], [0xF4, 0x90, 0x80, 0x80]] {
                expectError(.invalidUTF8) { _ = try tokenizer.encode(utf8: bad, addSpecialTokens: true) }
            }
            XCTAssertEqual(try tokenizer.encode(utf8: Array("héllo".utf8), addSpecialTokens: false),
                           tokenizer.encode("héllo", addSpecialTokens: false))
        }
    }

    func testIdsOutOfRange() throws {
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            for bad: Int32 in [-1, Int32(tokenizer.vocabSize), Int32.max, Int32.min] {
                expectError(.idOutOfRange) { _ = try tokenizer.decode([5, bad], skipSpecialTokens: false) }
                var stream = tokenizer.makeStreamingDecoder()
                expectError(.idOutOfRange) { _ = try stream.step(bad) }
            }
            XCTAssertNil(tokenizer.idToPiece(-1))
            XCTAssertNil(tokenizer.idToPiece(Int32(tokenizer.vocabSize)))
        }
    }

    func testMissingFiles() {
        expectError(.io) { _ = try TokenizerLoader.load(path: "/nonexistent/tokenizer.json") }
        expectError(.io) { _ = try TokenizerLoader.load(path: "/tmp") }
    }

    func testBadTokenizerJSON() throws {
        let cases: [(String, String, TokenizerError.Kind)] = [
            ("notjson", "{\"model\": ", .format),
            ("nomodel", "{\"added_tokens\": []}", .format),
            ("unknownmodel", #"{"model": {"type": "Magic", "vocab": {}}}"#, .unsupported),
            ("unknownpre", #"{"pre_tokenizer": {"type": "Telepathy"}, "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}"#, .unsupported),
            ("unknownnormalizer", #"{"normalizer": {"type": "Transliterate"}, "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}"#, .unsupported),
            ("badmerge", #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#, .format),
            ("badregex", #"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated"}, "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}"#, .unsupported),
            ("badunigram", #"{"model": {"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]}}"#, .format),
        ]
        for (name, text, kind) in cases {
            let path = scratchFile(name + ".json", Array(text.utf8))
            defer { unlink(path) }
            expectError(kind) { _ = try TokenizerLoader.load(path: path) }
        }
    }

    func testCorruptSentencePieceModel() throws {
        let good = try FileBytes.read(TokenizerFixtures.tokenizerPath("sp-unigram"))
        // Truncations at many points, and random byte flips: every one must throw or load,
        // and whatever loads must encode and decode without trapping.
        var generator = SystemRandomNumberGenerator()
        var rejected = 0
        for cut in stride(from: 1, to: good.count, by: max(1, good.count / 97)) {
            do {
                let tokenizer = try SentencePieceTokenizer(bytes: Array(good[..<cut]))
                _ = try tokenizer.decode(tokenizer.encode("Hello wörld 123", addSpecialTokens: true), skipSpecialTokens: false)
            } catch {
                XCTAssertEqual(error.kind, .format)
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 50)
        for _ in 0..<200 {
            var bytes = good
            for _ in 0..<8 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            if let tokenizer = try? SentencePieceTokenizer(bytes: bytes) {
                _ = try? tokenizer.decode(tokenizer.encode("Hello wörld 123 ✨", addSpecialTokens: true), skipSpecialTokens: true)
            }
        }
        expectError(.format) { _ = try SentencePieceTokenizer(bytes: [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
        expectError(.format) { _ = try SentencePieceTokenizer(bytes: Array("{\"not\": \"a model\"}".utf8)) }
        let path = scratchFile("bad.model", [0x08, 0x96, 0x01])
        defer { unlink(path) }
        expectError(.format) { _ = try TokenizerLoader.load(path: path) }
    }
}
