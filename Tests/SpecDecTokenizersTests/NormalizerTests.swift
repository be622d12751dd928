import XCTest
import SpecDecJSON
@testable import SpecDecTokenizers

/// The normalizers against the reference `tokenizers` package on normalizers.json
/// (tools/tokenizers/make_normalizer_fixtures.py): every script, every decomposable
/// character, Hangul, combining-mark orders, emoji, controls.
final class NormalizerTests: XCTestCase {
    static let fixture: JSONValue? = try? JSONParser.parse(try FileBytes.read(TokenizerFixtures.path("normalizers.json")))

    func testEveryNormalizerMatchesTheReferenceOnEveryLine() throws {
        let json = try XCTUnwrap(NormalizerTests.fixture, "normalizers.json missing")
        let lines = try XCTUnwrap(json["lines"]?.arrayValue).compactMap(\.stringValue)
        XCTAssertGreaterThan(lines.count, 1500)
        let builder = HFTokenizerBuilder(source: "normalizers.json")
        let records = try XCTUnwrap(json["normalizers"]?.arrayValue)
        XCTAssertGreaterThan(records.count, 15)
        for record in records {
            let config = try XCTUnwrap(record["config"])
            let results = try XCTUnwrap(record["results"]?.arrayValue)
            XCTAssertEqual(results.count, lines.count)
            let normalizer = try XCTUnwrap(try builder.normalizer(config))
            var mismatches: [String] = []
            var changed = 0
            // Bytes, not Strings: Swift's String equality is canonical equivalence, under
            // which NFC and NFD output would equal their input.
            for (line, result) in zip(lines, results) {
                let expected = Array((result.stringValue ?? line).utf8)
                if expected != Array(line.utf8) { changed += 1 }
                let actualBytes = normalizer.normalize(Array(line.utf8))
                if actualBytes != expected, mismatches.count < 5 {
                    let actual = String(decoding: actualBytes, as: UTF8.self), expected = String(decoding: expected, as: UTF8.self)
                    mismatches.append("\(TokenizerFixtures.visible(line))\n  expected \(TokenizerFixtures.visible(expected))\n  actual   \(TokenizerFixtures.visible(actual))")
                }
            }
            XCTAssertGreaterThan(changed, 0, "\(config.serialized) changes no line: the fixture tests nothing")
            XCTAssertTrue(mismatches.isEmpty, "\(config.serialized):\n" + mismatches.joined(separator: "\n"))
        }
    }

    /// Each form on every code point alone (Hangul syllables are covered by the lines):
    /// the listed ones change as the reference says, all others come back unchanged.
    func testFormsOnEveryCodePoint() throws {
        let json = try XCTUnwrap(NormalizerTests.fixture, "normalizers.json missing")
        let single = try XCTUnwrap(json["single_code_points"])
        let forms: [(String, UnicodeNormalization.Form)] = [("NFC", .nfc), ("NFD", .nfd), ("NFKC", .nfkc), ("NFKD", .nfkd)]
        for (name, form) in forms {
            let changed = try XCTUnwrap(single[name]?.objectValue, name)
            XCTAssertGreaterThan(changed.count, 1000, name)
            var mismatches: [String] = []
            var bytes: [UInt8] = []
            for cp in UInt32(0x80)..<0x110000 where !(0xD800..<0xE000).contains(cp) && !(0xAC00...0xD7A3).contains(cp) {
                bytes.removeAll(keepingCapacity: true)
                UTF8Text.append(cp, to: &bytes)
                let actual = UnicodeNormalization.normalize(bytes, to: form)
                let key = String(cp, radix: 16, uppercase: true)
                let expected = changed[key]?.stringValue.map { Array($0.utf8) } ?? bytes
                if actual != expected, mismatches.count < 8 {
                    mismatches.append("U+\(key): expected \(TokenizerFixtures.visible(String(decoding: expected, as: UTF8.self))) actual \(TokenizerFixtures.visible(String(decoding: actual, as: UTF8.self)))")
                }
            }
            XCTAssertTrue(mismatches.isEmpty, "\(name):\n" + mismatches.joined(separator: "\n"))
        }
    }

    func testHangulRoundTrip() {
        let syllables = Array("한국어 텍스트 똠방각하".utf8)
        let decomposed = UnicodeNormalization.normalize(syllables, to: .nfd)
        XCTAssertEqual(decomposed.count, 3 * 26 + 2)  // every syllable becomes two or three jamo
        XCTAssertEqual(UnicodeNormalization.normalize(decomposed, to: .nfc), syllables)
    }

    func testEveryReferenceNormalizerTypeLoads() throws {
        let builder = HFTokenizerBuilder(source: "test")
        let extra = [
            "Sequence": #", "normalizers": [{"type": "NFKC"}]"#, "Prepend": #", "prepend": "_""#,
            "Replace": #", "pattern": {"String": " "}, "content": "_""#, "Precompiled": #", "precompiled_charsmap": """#,
        ]
        for type in HFTokenizerBuilder.supportedNormalizers {
            let config = try JSONParser.parse("{\"type\": \"\(type)\"\(extra[type] ?? "")}")
            XCTAssertNoThrow(try builder.normalizer(config), type)
        }
        XCTAssertThrowsError(try builder.normalizer(try JSONParser.parse(#"{"type": "Transliterate"}"#))) { error in
            XCTAssertTrue("\(error)".contains("Transliterate") && "\(error)".contains("NFKC"), "\(error)")
        }
    }
}
