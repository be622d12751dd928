import XCTest
import SpecDecJSON
@testable import SpecDecTokenizers

/// The stories260K tokenizer from ../shared/models, in both formats. Skipped when the
/// directory is absent.
final class SharedModelTests: XCTestCase {
    func storiesDirectory() throws -> String {
        let directory = TokenizerFixtures.sharedStories
        try XCTSkipUnless(TokenizerFixtures.isDirectory(directory), "\(directory) not found: shared models are not available")
        return directory
    }

    func check(_ tokenizer: any Tokenizer, _ fixture: String, addSpecialTokens: Bool) throws {
        let corpus = TokenizerFixtures.corpus
        let expected = try TokenizerFixtures.ids(TokenizerFixtures.path(fixture))
        var matched = 0
        var failures: [String] = []
        for (k, reference) in expected.enumerated() {
            let text = corpus[k * 6]
            let ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
            if ids == reference { matched += 1 } else if failures.count < 5 {
                failures.append("line \(k * 6) \(TokenizerFixtures.visible(text)):\n  expected \(reference)\n  actual   \(ids)")
            }
        }
        print("\(fixture): \(matched)/\(expected.count) lines match")
        XCTAssertEqual(matched, expected.count, failures.joined(separator: "\n"))
    }

    func testStoriesTokenizerJSON() throws {
        let directory = try storiesDirectory()
        let tokenizer = try TokenizerLoader.load(path: directory)
        XCTAssertTrue(tokenizer is HFTokenizer)
        XCTAssertEqual(tokenizer.vocabSize, 512)
        XCTAssertEqual(tokenizer.specialTokens, SpecialTokenIds(bos: 1, eos: 2, pad: nil, unk: 0))
        try check(tokenizer, "stories260K.hf.ids.txt", addSpecialTokens: true)
        XCTAssertEqual(tokenizer.encode("Once upon a time", addSpecialTokens: true).first, 1)

        let corpus = TokenizerFixtures.corpus
        let ids = try TokenizerFixtures.ids(TokenizerFixtures.path("stories260K.hf.ids.txt"))
        let differences = try TokenizerFixtures.decodeDifferences(TokenizerFixtures.path("stories260K.hf.decode.txt"))
        var failures: [String] = []
        for (k, row) in ids.enumerated() {
            let line = k * 6
            for skip in [false, true] where skip || k % 16 == 0 {
                let expected = differences[line]?[skip] ?? corpus[line]
                let actual = try tokenizer.decode(row, skipSpecialTokens: skip)
                if actual != expected, failures.count < 5 {
                    failures.append("line \(line) skip=\(skip): expected \(TokenizerFixtures.visible(expected)) got \(TokenizerFixtures.visible(actual))")
                }
            }
        }
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testStoriesSentencePieceModel() throws {
        let directory = try storiesDirectory()
        let tokenizer = try SentencePieceTokenizer.load(path: directory + "/tokenizer.model")
        XCTAssertEqual(tokenizer.vocabSize, 512)
        XCTAssertEqual(tokenizer.specialTokens.bos, 1)
        XCTAssertEqual(tokenizer.specialTokens.eos, 2)
        try check(tokenizer, "stories260K.sp.ids.txt", addSpecialTokens: false)
        XCTAssertEqual(tokenizer.encode("Once upon a time", addSpecialTokens: true).first, 1)

        // Decoding (no extra-whitespace removal in this model): lines listed in the decode
        // file decode to their recorded text, all others back to the corpus line.
        var special: [Int: ([Int32], String)] = [:]
        for line in try TokenizerFixtures.lines(TokenizerFixtures.path("stories260K.sp.decode.jsonl")) {
            let json = try JSONParser.parse(String(line))
            guard let index = json["line"]?.intValue, let text = json["text"]?.stringValue,
                  let ids = json["ids"]?.arrayValue?.compactMap({ $0.intValue.map(Int32.init) }) else { continue }
            special[index] = (ids, text)
        }
        XCTAssertFalse(special.isEmpty)
        let corpus = TokenizerFixtures.corpus
        var failures: [String] = []
        for (k, row) in try TokenizerFixtures.ids(TokenizerFixtures.path("stories260K.sp.ids.txt")).enumerated() {
            let (ids, expected) = special[k * 6] ?? (row, corpus[k * 6])
            let actual = try tokenizer.decode(ids, skipSpecialTokens: false)
            if actual != expected, failures.count < 5 {
                failures.append("line \(k * 6): expected \(TokenizerFixtures.visible(expected)) got \(TokenizerFixtures.visible(actual))")
            }
        }
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
    }
}
