import Glibc
import XCTest
@testable import SpecDecTokenizers

/// Inputs of 100,000 characters and more: every tokenizer returns ids within seconds,
/// without exhausting the stack (the regex matcher, the tries and the merge loops must not
/// recurse or go quadratic per character).
final class LongInputTests: XCTestCase {
    static let length = 100_000

    /// Shapes that stress different parts: one endless word (BPE merges, Unigram lattice),
    /// endless whitespace and digits (pre-tokenizer patterns), scripts without spaces, and
    /// special tokens back to back (added-vocabulary matching).
    static let inputs: [(String, String)] = {
        let n = length
        var pseudoRandom = UInt64(12345)
        func next() -> UInt64 {
            pseudoRandom = pseudoRandom &* 6364136223846793005 &+ 1442695040888963407
            return pseudoRandom >> 33
        }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()-_/ \t\n")
        let mixed = String((0..<n).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
        let noSpaces = String((0..<n).map { _ in alphabet[Int(next() % 62)] })
        return [
            ("one letter repeated", String(repeating: "a", count: n)),
            ("one word without spaces", noSpaces),
            ("spaces", String(repeating: " ", count: n)),
            ("digits and punctuation", String(repeating: "0123456789!?.,;", count: n / 15)),
            ("mixed ASCII", mixed),
            ("CJK", String((0..<n).map { _ in Character(Unicode.Scalar(0x4E00 + UInt32(next() % 2000))!) })),
            ("emoji sequences", String(repeating: "👨‍👩‍👧‍👦🏳️‍🌈", count: n / 10)),
            ("combining marks", "e" + String(repeating: "\u{301}", count: n)),
            ("special tokens", String(repeating: "<s></s><unk><|endoftext|>[CLS]", count: n / 30)),
        ]
    }()

    /// Seconds one input may take (debug builds on a small machine included).
    static let budget = 10.0

    func check(_ name: String, _ tokenizer: any Tokenizer) throws {
        for (shape, text) in LongInputTests.inputs {
            let start = Clock.seconds()
            let ids = tokenizer.encode(text, addSpecialTokens: true)
            let encoded = Clock.seconds() - start
            XCTAssertLessThan(encoded, LongInputTests.budget, "\(name), \(shape): \(encoded) s")
            XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabSize }, "\(name), \(shape)")
            if !text.allSatisfy(\.isWhitespace) { XCTAssertFalse(ids.isEmpty, "\(name), \(shape)") }
            _ = try tokenizer.decode(ids, skipSpecialTokens: false)
            XCTAssertLessThan(Clock.seconds() - start, 2 * LongInputTests.budget, "\(name), \(shape): decode")
        }
    }

    func fixture(_ name: String) throws { try check(name, try TokenizerFixtures.load(name)) }

    // One test per fixture tokenizer (DecodeTests.all), so that each stays short.
    func testByteLevelBPE() throws { try fixture("bytelevel-bpe") }
    func testLlama3BPE() throws { try fixture("llama3-bpe") }
    func testQwen2BPE() throws { try fixture("qwen2-bpe") }
    func testMetaspaceBPE() throws { try fixture("metaspace-bpe") }
    func testMetaspaceFirstBPE() throws { try fixture("metaspace-first-bpe") }
    func testUnigram() throws { try fixture("unigram") }
    func testWordPiece() throws { try fixture("wordpiece") }
    func testPrecompiledUnigram() throws { try fixture("precompiled-unigram") }
    func testBertUncasedWordPiece() throws { try fixture("bert-uncased-wordpiece") }
    func testAlbertUnigram() throws { try fixture("albert-unigram") }
    func testNmtNfkcUnigram() throws { try fixture("nmt-nfkc-unigram") }
    func testSentencePieceUnigram() throws { try fixture("sp-unigram") }
    func testSentencePieceBPE() throws { try fixture("sp-bpe") }

    func testEveryFixtureIsCovered() {
        let covered = ["bytelevel-bpe", "llama3-bpe", "qwen2-bpe", "metaspace-bpe", "metaspace-first-bpe", "unigram", "wordpiece",
                       "precompiled-unigram", "bert-uncased-wordpiece", "albert-unigram", "nmt-nfkc-unigram", "sp-unigram", "sp-bpe"]
        XCTAssertEqual(Set(covered), Set(DecodeTests.all))
    }

    func testMarianSource() throws { try check("marian source", try marianPair().source) }
    func testMarianTarget() throws { try check("marian target", try marianPair().target) }

    func marianPair() throws -> (source: any Tokenizer, target: any Tokenizer) {
        let directory = "/tmp/specdec-long-marian-\(getpid())"
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
        return (pair.source, pair.target)
    }

    /// The general regex engine backtracks recursively; on a thread with a small stack (a
    /// host's worker thread) it gives up on a pathological search instead of overflowing.
    func testRegexOnASmallStack() throws {
        final class Search: @unchecked Sendable {
            let regex: SimpleRegex
            let text = Array(String(repeating: "ab ", count: 50_000).utf8)
            var matches = -1
            init(_ pattern: String) throws { regex = try SimpleRegex(pattern) }
        }
        for pattern in [#"(?:\s*\S+)+"#, #"(?:a|b| )+"#, #"(?:ab ?)+$"#] {
            let search = try Search(pattern)
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setstacksize(&attributes, 256 << 10)
            defer { pthread_attr_destroy(&attributes) }
            var thread = pthread_t()
            let start = Clock.seconds()
            XCTAssertEqual(pthread_create(&thread, &attributes, { raw in
                let search = Unmanaged<Search>.fromOpaque(raw!).takeUnretainedValue()
                search.matches = search.text.withUnsafeBufferPointer { search.regex.matches(in: $0, from: 0, to: $0.count) }.count
                return nil
            }, Unmanaged.passUnretained(search).toOpaque()), 0)
            pthread_join(thread, nil)
            XCTAssertGreaterThan(search.matches, 0, pattern)
            XCTAssertLessThan(Clock.seconds() - start, LongInputTests.budget, pattern)
        }
    }

    /// A file that claims more bytes than the machine has is refused before it is read.
    func testTokenizerFileLargerThanMemory() throws {
        let path = "/tmp/specdec-huge-tokenizer-\(getpid()).json"
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(ftruncate(fd, 1 << 40), 0)
        close(fd)
        defer { unlink(path) }
        XCTAssertThrowsError(try TokenizerLoader.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("memory"), "\(error)")
        }
    }
}

/// Wall-clock seconds for the budgets above.
enum Clock {
    static func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
