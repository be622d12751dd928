import XCTest
import SpecDecJSON
@testable import SpecDecTokenizers

/// tokenizer.json numbers are read as the reference's serde_json reads them, so Unigram
/// scores are bit-equal to the reference's (unigram-scores.json, from the tokenizers package).
final class UnigramScoreTests: XCTestCase {
    func testScoresAreReadAsTheReferenceReadsThem() throws {
        let json = try JSONParser.parse(try FileBytes.read(TokenizerFixtures.path("unigram-scores.json")))
        let texts = try XCTUnwrap(json["texts"]?.arrayValue).compactMap(\.stringValue)
        let reference = try XCTUnwrap(json["reference"]?.arrayValue).compactMap(\.doubleValue)
        XCTAssertEqual(texts.count, reference.count)
        XCTAssertGreaterThan(texts.count, 3000)
        var offNearest = 0
        for (text, expected) in zip(texts, reference) {
            let actual = try JSONParser.parse(Array("[\(text)]".utf8), floats: .serdeJSONDefault).arrayValue?.first?.doubleValue
            XCTAssertEqual(actual?.bitPattern, expected.bitPattern, "\(text): \(String(describing: actual)) vs \(expected)")
            if Double(text) != expected { offNearest += 1 }
        }
        // The fixture must hold texts where the two readings differ, or it proves nothing.
        XCTAssertGreaterThan(offNearest, 100)
    }
}
