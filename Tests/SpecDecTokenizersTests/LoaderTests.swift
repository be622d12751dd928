import XCTest
@testable import SpecDecTokenizers

final class LoaderTests: XCTestCase {
    func testLoadsByPathAndKind() throws {
        let bpe = try TokenizerLoader.load(path: TokenizerFixtures.path("bytelevel-bpe"))
        XCTAssertTrue(bpe is HFTokenizer)
        let sp = try TokenizerLoader.load(path: TokenizerFixtures.path("sp-bpe"))
        XCTAssertTrue(sp is SentencePieceTokenizer)
        let file = try TokenizerLoader.load(path: TokenizerFixtures.path("sp-unigram/tokenizer.model"))
        XCTAssertTrue(file is SentencePieceTokenizer)
    }

    func testSpecialTokensAndPieces() throws {
        let llama3 = try TokenizerFixtures.load("llama3-bpe")
        let bos = llama3.pieceToId("<|begin_of_text|>")
        XCTAssertNotNil(bos)
        XCTAssertEqual(llama3.specialTokens.bos, bos)
        XCTAssertEqual(llama3.specialTokens.eos, llama3.pieceToId("<|end_of_text|>"))
        XCTAssertEqual(llama3.encode("hi", addSpecialTokens: true).first, bos)
        XCTAssertNotEqual(llama3.encode("hi", addSpecialTokens: false).first, bos)
        XCTAssertTrue(llama3.isSpecial(bos ?? -1))

        let metaspace = try TokenizerFixtures.load("metaspace-bpe")
        XCTAssertEqual(metaspace.specialTokens, SpecialTokenIds(bos: 1, eos: 2, pad: nil, unk: 0))
        XCTAssertEqual(metaspace.idToPiece(3), "<0x00>")
        XCTAssertEqual(metaspace.pieceToId("<0x00>"), 3)

        let unigram = try TokenizerFixtures.load("unigram")
        XCTAssertEqual(unigram.specialTokens.eos, unigram.pieceToId("</s>"))
        XCTAssertEqual(unigram.specialTokens.pad, unigram.pieceToId("<pad>"))
        XCTAssertEqual(unigram.encode("abc", addSpecialTokens: true).last, unigram.pieceToId("</s>"))

        let sp = try TokenizerFixtures.load("sp-unigram")
        XCTAssertEqual(sp.specialTokens, SpecialTokenIds(bos: 1, eos: 2, pad: nil, unk: 0))
        XCTAssertEqual(sp.idToPiece(1), "<s>")
        XCTAssertTrue(sp.isSpecial(1))
        XCTAssertFalse(sp.isSpecial(10))
    }

    func testRegexEngineAgreesWithScanners() throws {
        // The general engine and the hand-written scanners must cut the corpus the same way.
        let patterns: [(String, TextPattern)] = [(TextPattern.gpt2Source, .gpt2), (TextPattern.llama3Source, .llama3(maxDigits: 3)),
                                                 (TextPattern.qwen2Source, .llama3(maxDigits: 1))]
        for (source, scanner) in patterns {
            let regex = TextPattern.regex(try SimpleRegex(source))
            for text in TokenizerFixtures.corpus.prefix(3000) {
                var bytes = Array(text.utf8)
                bytes.withUnsafeMutableBufferPointer { m in
                    let p = UnsafeBufferPointer(m)
                    var a: [Int] = []
                    var b: [Int] = []
                    scanner.forEachMatch(p, 0, p.count) { a += [$0, $1] }
                    regex.forEachMatch(p, 0, p.count) { b += [$0, $1] }
                    XCTAssertEqual(a, b, "\(TokenizerFixtures.visible(text))")
                }
            }
        }
    }
}
