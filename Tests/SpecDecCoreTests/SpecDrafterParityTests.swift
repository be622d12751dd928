import SpecDecCore
import Testing

/// The engine's Spec-Drafter against the PyTorch drafter of training/models.py on a
/// random-weight fixture (Tests/Fixtures/specdec, made by training/export_drafter.py
/// --fixture): the logits of every mask slot within 1e-3, argmax identical.
@Suite struct SpecDrafterParityTests {
    static let directory = Fixtures.testsDirectory + "/Fixtures/specdec"

    @Test func slotLogitsMatchPyTorch() throws {
        let model = try SpecDrafterModel(directory: Self.directory + "/tiny-drafter")
        let reference = try Fixtures.json(Self.directory + "/reference.json")
        let cases = reference["cases"]?.arrayValue ?? []
        #expect(cases.count >= 4)
        let vocab = model.config.vocabSize
        for c in cases {
            func ids(_ key: String) -> [Int32] { (c[key]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) } }
            let k = c["k"]?.intValue ?? 0
            let encoded = try model.encode(ids("source_ids"))
            let logits = try model.draftLogits(encoded, prefix: ids("prefix_ids"), k: k)
            let expected = (c["logits"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
            var worst: Float = 0
            var argmax: [Int32] = []
            for slot in 0..<k {
                let row = Array(logits[(slot * vocab)..<((slot + 1) * vocab)])
                for (a, b) in zip(row, expected[slot]) { worst = max(worst, abs(a - b)) }
                argmax.append(Int32(row.indices.max { row[$0] < row[$1] }!))
            }
            #expect(worst < 1e-3, "\(c["name"]?.stringValue ?? ""): max |Δ logit| \(worst)")
            #expect(argmax == ids("argmax_ids"))
        }
    }

    @Test func badInputGetsErrors() throws {
        let model = try SpecDrafterModel(directory: Self.directory + "/tiny-drafter")
        #expect(throws: SpecDecError.self) { _ = try model.encode([Int32](repeating: 3, count: model.config.maxPositions + 1)) }
        #expect(throws: SpecDecError.self) { _ = try model.encode([Int32(model.config.vocabSize)]) }
        let encoded = try model.encode([5, 6, 0])
        #expect(throws: SpecDecError.self) { _ = try model.draftLogits(encoded, prefix: [Int32](repeating: 4, count: model.config.maxPositions), k: 5) }
    }
}
