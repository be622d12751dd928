import XCTest
@testable import SpecDecTokenizers

/// Long and odd inputs must neither crash nor take pathological time.
final class RobustnessTests: XCTestCase {
    static let inputs: [String] = [
        String(repeating: " ", count: 20_000),
        String(repeating: "a", count: 20_000),
        String(repeating: "ab1 ", count: 5_000),
        String(repeating: "👨‍👩‍👧‍👦", count: 1_000),
        String(repeating: "\n\r\t", count: 3_000),
        String((0..<0x800).compactMap { Unicode.Scalar(UInt32($0)) }.map(Character.init)),
        String(repeating: "<s></s><unk><|endoftext|>", count: 500),
        "\u{0}\u{FFFD}\u{10FFFF}\u{E000}",
    ]

    func testLongAndOddInputs() throws {
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            for text in RobustnessTests.inputs {
                let ids = tokenizer.encode(text, addSpecialTokens: true)
                // SentencePiece drops whitespace-only text entirely (remove_extra_whitespaces).
                if !TokenizerFixtures.sentencePiece.contains(name) { XCTAssertFalse(ids.isEmpty && !text.isEmpty, name) }
                XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabSize }, name)
                _ = try tokenizer.decode(ids, skipSpecialTokens: false)
            }
        }
    }

    func testEveryIdDecodes() throws {
        for name in DecodeTests.all {
            let tokenizer = try TokenizerFixtures.load(name)
            for id in 0..<Int32(tokenizer.vocabSize) {
                _ = try tokenizer.decode([id], skipSpecialTokens: false)
                _ = try tokenizer.decode([id, id], skipSpecialTokens: true)
                if let piece = tokenizer.idToPiece(id) { XCTAssertNotNil(tokenizer.pieceToId(piece)) }
            }
        }
    }

    func testGeneralRegexOnLongText() throws {
        let regex = try SimpleRegex(#"\s+|[^\s]+?(?=\s|$)"#)
        var text = Array(String(repeating: "word ", count: 20_000).utf8)
        text += Array(String(repeating: " ", count: 50_000).utf8)
        let matches = text.withUnsafeBufferPointer { regex.matches(in: $0, from: 0, to: $0.count) }
        XCTAssertEqual(matches.count, 40_000)
    }
}
