import Glibc
import XCTest
import SpecDecJSON
@testable import SpecDecTokenizers

/// A Marian directory (source.spm, target.spm, vocab.json) against transformers'
/// MarianTokenizer. The fixture stores vocab.json; the .spm files are the sp-unigram and
/// sp-bpe models, linked into a scratch directory here.
final class MarianTests: XCTestCase {
    func testMarianPairMatchesTransformers() throws {
        let directory = "/tmp/specdec-marian-test-\(getpid())"
        mkdir(directory, 0o755)
        defer {
            for file in ["source.spm", "target.spm", "vocab.json", "tokenizer_config.json"] { unlink(directory + "/" + file) }
            rmdir(directory)
        }
        let fixture = TokenizerFixtures.path("marian")
        symlink(TokenizerFixtures.path("sp-unigram/tokenizer.model"), directory + "/source.spm")
        symlink(TokenizerFixtures.path("sp-bpe/tokenizer.model"), directory + "/target.spm")
        symlink(fixture + "/vocab.json", directory + "/vocab.json")
        symlink(fixture + "/tokenizer_config.json", directory + "/tokenizer_config.json")

        let pair = try TokenizerLoader.loadPair(path: directory)
        XCTAssertTrue(pair.source is MarianTokenizer)
        XCTAssertFalse(pair.source === pair.target)
        XCTAssertEqual(pair.source.specialTokens.eos, pair.source.pieceToId("</s>"))
        XCTAssertEqual(pair.source.specialTokens.pad, pair.source.pieceToId("<pad>"))
        var failures: [String] = []
        var count = 0
        for line in try TokenizerFixtures.lines(fixture + "/cases.jsonl") {
            let case_ = try JSONParser.parse(String(line))
            guard let text = case_["text"]?.stringValue,
                  let source = case_["source"]?.arrayValue?.compactMap({ $0.intValue.map(Int32.init) }),
                  let target = case_["target"]?.arrayValue?.compactMap({ $0.intValue.map(Int32.init) }),
                  let decoded = case_["decoded"]?.stringValue, let skipped = case_["skipped"]?.stringValue else { continue }
            count += 1
            let ours = pair.source.encode(text, addSpecialTokens: true)
            if ours != source { failures.append("source \(TokenizerFixtures.visible(text)): expected \(source) got \(ours)") }
            let oursTarget = pair.target.encode(text, addSpecialTokens: true)
            if oursTarget != target { failures.append("target \(TokenizerFixtures.visible(text)): expected \(target) got \(oursTarget)") }
            let text1 = try pair.source.decode(source, skipSpecialTokens: false)
            if text1 != decoded { failures.append("decode \(source): expected \(TokenizerFixtures.visible(decoded)) got \(TokenizerFixtures.visible(text1))") }
            let text2 = try pair.source.decode(source, skipSpecialTokens: true)
            if text2 != skipped { failures.append("decode skip \(source): expected \(TokenizerFixtures.visible(skipped)) got \(TokenizerFixtures.visible(text2))") }
        }
        XCTAssertGreaterThan(count, 500)
        print("marian: \(count * 4 - failures.count)/\(count * 4) checks match transformers")
        XCTAssertTrue(failures.isEmpty, failures.prefix(6).joined(separator: "\n"))
    }
}
