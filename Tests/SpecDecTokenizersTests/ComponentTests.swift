import XCTest
import SpecDecJSON
@testable import SpecDecTokenizers

/// Pipeline components against the reference (split-patterns.json): Split and Replace with
/// assorted regexes and every split behavior, pre-tokenizers and normalizers one by one.
final class ComponentTests: XCTestCase {
    func testSplitPatternsMatchReference() throws {
        let json = try JSONParser.parse(try FileBytes.read(TokenizerFixtures.path("split-patterns.json")))
        let lines = json["lines"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertGreaterThan(lines.count, 20)
        let behaviors: [String: SplitBehavior] = ["removed": .removed, "isolated": .isolated,
                                                  "merged_with_previous": .mergedWithPrevious,
                                                  "merged_with_next": .mergedWithNext, "contiguous": .contiguous]
        var checked = 0
        var unsupported = Set<String>()
        var failures: [String] = []
        for record in json["splits"]?.arrayValue ?? [] {
            guard let source = record["pattern"]?.stringValue, let behaviorName = record["behavior"]?.stringValue,
                  let behavior = behaviors[behaviorName], let invert = record["invert"]?.boolValue,
                  let expected = record["pieces"]?.arrayValue else { continue }
            let pattern: TextPattern
            do {
                pattern = try TextPattern.regex(source)
            } catch {
                XCTAssertEqual(error.kind, .unsupported)
                unsupported.insert(source)
                continue
            }
            let splitter = SplitPreTokenizer(pattern: pattern, behavior: behavior, invert: invert)
            for (line, reference) in zip(lines, expected) {
                var buffer = PieceBuffer(bytes: Array(line.utf8), atOrigin: true)
                splitter.preTokenize(&buffer)
                let lengths = buffer.pieces.map { $0.end - $0.start }
                let want = reference.arrayValue?.compactMap(\.intValue) ?? []
                checked += 1
                if lengths != want, failures.count < 5 {
                    failures.append("\(source) \(behaviorName) invert=\(invert) on \(TokenizerFixtures.visible(line)): expected \(want) got \(lengths)")
                }
            }
        }
        print("split patterns: \(checked) splits checked, unsupported: \(unsupported.sorted())")
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
        XCTAssertEqual(unsupported, [#"\p{Han}|\p{L}"#])

        for record in json["replacements"]?.arrayValue ?? [] {
            guard let source = record["pattern"]?.stringValue, let content = record["content"]?.stringValue,
                  let results = record["results"]?.arrayValue?.compactMap(\.stringValue) else { continue }
            let normalizer = ReplaceNormalizer(pattern: try TextPattern.regex(source), content: Array(content.utf8))
            for (line, expected) in zip(lines, results) {
                let actual = String(decoding: normalizer.normalize(Array(line.utf8)), as: UTF8.self)
                XCTAssertEqual(actual, expected, "\(source) on \(TokenizerFixtures.visible(line))")
            }
        }
    }

    func testPreTokenizersMatchReference() throws {
        let json = try JSONParser.parse(try FileBytes.read(TokenizerFixtures.path("split-patterns.json")))
        let lines = json["lines"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let builder = HFTokenizerBuilder(source: "split-patterns.json")
        var checked = 0
        for record in json["pretokenizers"]?.arrayValue ?? [] {
            guard let config = record["config"], let expected = record["pieces"]?.arrayValue else { continue }
            let preTokenizer = try XCTUnwrap(try builder.preTokenizer(config))
            for (line, reference) in zip(lines, expected) {
                var buffer = PieceBuffer(bytes: Array(line.utf8), atOrigin: true)
                preTokenizer.preTokenize(&buffer)
                let pieces = buffer.pieces.map { String(decoding: buffer.bytes[$0.start..<$0.end], as: UTF8.self) }
                let want = reference.arrayValue?.compactMap(\.stringValue) ?? []
                checked += 1
                XCTAssertEqual(pieces, want, "\(config.serialized) on \(TokenizerFixtures.visible(line))")
            }
        }
        XCTAssertGreaterThan(checked, 500)
    }

    func testNormalizersMatchReference() throws {
        let json = try JSONParser.parse(try FileBytes.read(TokenizerFixtures.path("split-patterns.json")))
        let lines = (json["lines"]?.arrayValue ?? []) + (json["normalizer_extra_lines"]?.arrayValue ?? [])
        let builder = HFTokenizerBuilder(source: "split-patterns.json")
        var checked = 0
        for record in json["normalizers"]?.arrayValue ?? [] {
            guard let config = record["config"], let results = record["results"]?.arrayValue else { continue }
            let normalizer = try XCTUnwrap(try builder.normalizer(config))
            for (line, expected) in zip(lines.compactMap(\.stringValue), results.compactMap(\.stringValue)) {
                let actual = normalizer.normalize(Array(line.utf8))
                checked += 1
                // Bytes: String equality is canonical equivalence and would let NFC through unchecked.
                XCTAssertEqual(actual, Array(expected.utf8),
                               "\(config.serialized): \(TokenizerFixtures.visible(String(decoding: actual, as: UTF8.self)))")
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    /// Punctuation and BERT clean-up use the reference's older category tables; check every
    /// code point against what was measured.
    func testLegacyCategoryTables() throws {
        let json = try JSONParser.parse(try FileBytes.read(TokenizerFixtures.path("unicode-legacy.json")))
        func ranges(_ key: String) -> [(UInt32, UInt32)] {
            (json[key]?.arrayValue ?? []).compactMap { pair in
                guard let a = pair.arrayValue?.first?.intValue, let b = pair.arrayValue?.last?.intValue else { return nil }
                return (UInt32(a), UInt32(b))
            }
        }
        let punctuation = ranges("punctuation")
        XCTAssertGreaterThan(punctuation.count, 100)
        var expected = Set<UInt32>()
        for (a, b) in punctuation { for v in a...b { expected.insert(v) } }
        var removed = Set<UInt32>()
        for (a, b) in ranges("bert_removed") where b - a < 300_000 { for v in a...b { removed.insert(v) } }
        let bert = BertNormalizer(cleanText: true, handleChineseCharacters: false, lowercase: false)
        var mismatches = 0
        for v in UInt32(0)..<0x110000 where !(0xD800..<0xE000).contains(v) {
            if PunctuationPreTokenizer.isPunctuation(v) != expected.contains(v) { mismatches += 1 }
            if v % 7 == 0 || removed.contains(v) {
                var bytes: [UInt8] = []
                UTF8Text.append(v, to: &bytes)
                if bert.normalize(bytes).isEmpty != removed.contains(v) { mismatches += 1 }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
