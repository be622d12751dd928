import XCTest
@testable import SpecDecTokenizers

/// Every corpus line must encode to exactly the reference ids, for every tokenizer.
final class CorpusExactnessTests: XCTestCase {
    func check(_ name: String) throws {
        XCTAssertGreaterThan(TokenizerFixtures.corpus.count, 10_000, "corpus fixture missing")
        let corpus = TokenizerFixtures.corpusLines(name)
        let stride = TokenizerFixtures.lineStride(name)
        let tokenizer = try TokenizerFixtures.load(name)
        let expected = try TokenizerFixtures.ids(TokenizerFixtures.path(name + "/ids.txt"))
        XCTAssertEqual(expected.count, corpus.count)
        var mismatches: [String] = []
        var matched = 0
        let addSpecial = !TokenizerFixtures.sentencePiece.contains(name)
        for (index, (text, reference)) in zip(corpus, expected).enumerated() {
            let ids = tokenizer.encode(text, addSpecialTokens: addSpecial)
            if ids == reference {
                matched += 1
            } else if mismatches.count < 8 {
                mismatches.append("line \(index * stride) \(TokenizerFixtures.visible(text)):\n  expected \(reference)\n  actual   \(ids)")
            }
        }
        print("\(name): \(matched)/\(corpus.count) lines match the reference ids" + (stride > 1 ? " (every \(stride)th corpus line)" : ""))
        XCTAssertEqual(matched, corpus.count, "\(name): first mismatches:\n" + mismatches.joined(separator: "\n"))
    }

    func testByteLevelBPE() throws { try check("bytelevel-bpe") }
    func testLlama3BPE() throws { try check("llama3-bpe") }
    func testQwen2BPE() throws { try check("qwen2-bpe") }
    func testMetaspaceBPE() throws { try check("metaspace-bpe") }
    func testMetaspaceFirstBPE() throws { try check("metaspace-first-bpe") }
    func testUnigram() throws { try check("unigram") }
    func testWordPiece() throws { try check("wordpiece") }
    func testPrecompiledUnigram() throws { try check("precompiled-unigram") }
    func testBertUncasedWordPiece() throws { try check("bert-uncased-wordpiece") }
    func testAlbertUnigram() throws { try check("albert-unigram") }
    func testNmtNFKCUnigram() throws { try check("nmt-nfkc-unigram") }
    func testSentencePieceUnigram() throws { try check("sp-unigram") }
    func testSentencePieceBPE() throws { try check("sp-bpe") }

    func testVocabularySizes() throws {
        for name in TokenizerFixtures.huggingFace + TokenizerFixtures.sentencePiece {
            let tokenizer = try TokenizerFixtures.load(name)
            let meta = try TokenizerFixtures.readText(TokenizerFixtures.path(name + "/meta.json"))
            XCTAssertTrue(meta.contains("\"vocab_size\": \(tokenizer.vocabSize)"), "\(name): \(meta) vs \(tokenizer.vocabSize)")
        }
    }
}
