import XCTest
@testable import SpecDecTokenizers

/// decode() against the reference decode of the reference ids, and streaming decode
/// against our full decode.
final class DecodeTests: XCTestCase {
    static let all = TokenizerFixtures.huggingFace + TokenizerFixtures.sentencePiece

    /// Which lines the fixture script recorded decodes for (see decode_diffs there).
    static func isRecorded(_ name: String, line: Int, skip: Bool) -> Bool {
        if !skip { return line % 16 == 0 }
        if TokenizerFixtures.sentencePiece.contains(name) { return line % 2 == 0 }
        return line % (name == "unigram" ? 4 : 1) == 0
    }

    func testDecodeMatchesReference() throws {
        for name in DecodeTests.all {
            let corpus = TokenizerFixtures.corpusLines(name)
            let tokenizer = try TokenizerFixtures.load(name)
            let ids = try TokenizerFixtures.ids(TokenizerFixtures.path(name + "/ids.txt"))
            let differences = try TokenizerFixtures.decodeDifferences(TokenizerFixtures.path(name + "/decode.txt"))
            var checked = 0
            var failures: [String] = []
            for (line, row) in ids.enumerated() {
                for skip in [false, true] where DecodeTests.isRecorded(name, line: line, skip: skip) {
                    let expected = differences[line]?[skip] ?? corpus[line]
                    // sentencepiece has no skip option: both recorded variants are its plain decode.
                    let isSentencePiece = TokenizerFixtures.sentencePiece.contains(name)
                    let actual = try tokenizer.decode(row, skipSpecialTokens: skip && !isSentencePiece)
                    checked += 1
                    if actual != expected, failures.count < 5 {
                        failures.append("line \(line) skip=\(skip): expected \(TokenizerFixtures.visible(expected)) got \(TokenizerFixtures.visible(actual))")
                    }
                }
            }
            print("\(name): \(checked - failures.count)/\(checked) reference decodes match")
            XCTAssertTrue(failures.isEmpty, "\(name):\n" + failures.joined(separator: "\n"))
        }
    }

    func testRandomIdsDecodeLikeReference() throws {
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            let cases = try TokenizerFixtures.randomCases(TokenizerFixtures.path(name + "/random.jsonl"))
            XCTAssertEqual(cases.count, 300)
            var failures: [String] = []
            for item in cases {
                let text = try tokenizer.decode(item.ids, skipSpecialTokens: false)
                if text != item.text { failures.append("\(item.ids): expected \(TokenizerFixtures.visible(item.text)) got \(TokenizerFixtures.visible(text))") }
                // sentencepiece has no skip option: its fixture repeats the plain decode.
                if !TokenizerFixtures.sentencePiece.contains(name) {
                    let skipped = try tokenizer.decode(item.ids, skipSpecialTokens: true)
                    if skipped != item.skipped { failures.append("\(item.ids) skip: expected \(TokenizerFixtures.visible(item.skipped)) got \(TokenizerFixtures.visible(skipped))") }
                }
            }
            XCTAssertTrue(failures.isEmpty, "\(name): \(failures.count) mismatches:\n" + failures.prefix(5).joined(separator: "\n"))
        }
    }

    /// Feeding ids one by one must return text that concatenates to the full decode, and
    /// no piece may end inside a character (Swift strings are valid UTF-8 by construction,
    /// so an incomplete character would show up as U+FFFD that the full decode lacks).
    func testStreamingConcatenationEqualsFullDecode() throws {
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            let ids = try TokenizerFixtures.ids(TokenizerFixtures.path(name + "/ids.txt"))
            var failures: [String] = []
            var checked = 0
            for (line, row) in ids.enumerated() where line % 11 == 0 {
                for skip in [false, true] {
                    let full = try tokenizer.decode(row, skipSpecialTokens: skip)
                    var stream = tokenizer.makeStreamingDecoder(skipSpecialTokens: skip)
                    var text = ""
                    for id in row {
                        if let piece = try stream.step(id) {
                            if piece.unicodeScalars.last == "\u{FFFD}" && !full.unicodeScalars.contains("\u{FFFD}") {
                                failures.append("line \(line): emitted an incomplete character")
                            }
                            text += piece
                        }
                    }
                    text += try stream.finish() ?? ""
                    checked += 1
                    if text != full, failures.count < 5 {
                        failures.append("line \(line) skip=\(skip): stream \(TokenizerFixtures.visible(text)) full \(TokenizerFixtures.visible(full))")
                    }
                }
            }
            print("\(name): \(checked - failures.count)/\(checked) streamed decodes equal the full decode")
            XCTAssertTrue(failures.isEmpty, "\(name):\n" + failures.joined(separator: "\n"))
        }
    }

    /// Random id sequences: the stream may only differ from the full decode where a run of
    /// byte-fallback tokens turns out invalid after part of it was returned (documented).
    func testStreamingRandomIds() throws {
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            var equal = 0
            let cases = try TokenizerFixtures.randomCases(TokenizerFixtures.path(name + "/random.jsonl"))
            for item in cases {
                let full = try tokenizer.decode(item.ids, skipSpecialTokens: false)
                var stream = tokenizer.makeStreamingDecoder()
                var text = ""
                for id in item.ids { text += try stream.step(id) ?? "" }
                text += try stream.finish() ?? ""
                if text == full { equal += 1 }
            }
            print("\(name): \(equal)/\(cases.count) random streams equal the full decode")
            if !["metaspace-bpe", "metaspace-first-bpe"].contains(name) {
                XCTAssertEqual(equal, cases.count, name)
            }
        }
    }

    func testStreamingHoldsBackSplitCharacters() throws {
        let tokenizer = try TokenizerFixtures.load("metaspace-bpe")
        // "€" is E2 82 AC: three byte-fallback tokens.
        let ids = ["<0xE2>", "<0x82>", "<0xAC>"].compactMap { tokenizer.pieceToId($0) }
        XCTAssertEqual(ids.count, 3)
        var stream = tokenizer.makeStreamingDecoder()
        XCTAssertNil(try stream.step(ids[0]))
        XCTAssertNil(try stream.step(ids[1]))
        XCTAssertEqual(try stream.step(ids[2]), "€")
    }

    /// A long generation: many window moves, text in every script of the corpus.
    func testStreamingLongSequence() throws {
        let text = TokenizerFixtures.corpus.enumerated().filter { $0.offset % 67 == 0 }.map(\.element).joined(separator: "\n")
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            let ids = tokenizer.encode(text, addSpecialTokens: true)
            XCTAssertGreaterThan(ids.count, 2_000)
            for skip in [false, true] {
                var stream = tokenizer.makeStreamingDecoder(skipSpecialTokens: skip)
                var streamed = ""
                for id in ids { streamed += try stream.step(id) ?? "" }
                streamed += try stream.finish() ?? ""
                XCTAssertEqual(streamed, try tokenizer.decode(ids, skipSpecialTokens: skip), "\(name) skip=\(skip)")
            }
        }
    }
}
