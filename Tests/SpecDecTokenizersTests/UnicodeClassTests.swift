import XCTest
@testable import SpecDecTokenizers

/// The byte-level scanners classify characters as letter / number / whitespace / other;
/// unicode-classes.txt records how the reference regex engine (Oniguruma) sees every code
/// point. Differences come from different Unicode versions.
final class UnicodeClassTests: XCTestCase {
    func testScannerClassesMatchReferenceRegex() throws {
        var runs: [(UInt32, Character)] = []
        for line in try TokenizerFixtures.lines(TokenizerFixtures.path("unicode-classes.txt")) {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let start = UInt32(fields[0], radix: 16), let cls = fields[1].first else { continue }
            runs.append((start, cls))
        }
        XCTAssertGreaterThan(runs.count, 1000)
        var differences: [String] = []
        var count = 0
        var byPair: [String: Int] = [:]
        for (k, (start, cls)) in runs.enumerated() {
            let end = k + 1 < runs.count ? runs[k + 1].0 : 0x110000
            for value in start..<end where !(0xD800..<0xE000).contains(value) {
                let ours: Character
                switch PreTokenizerScanners.kind(value) {
                case .letter: ours = "L"
                case .number: ours = "N"
                case .space: ours = "S"
                case .other: ours = "O"
                }
                if ours != cls {
                    count += 1
                    byPair["\(cls)->\(ours)", default: 0] += 1
                    if differences.count < 10 { differences.append("U+\(String(value, radix: 16, uppercase: true)) reference \(cls) ours \(ours)") }
                }
            }
        }
        print("unicode classes: \(count) code points differ from the reference regex engine: \(byPair)")
        XCTAssertEqual(count, 0, differences.joined(separator: "\n"))
    }
}
