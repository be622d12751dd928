@testable import SpecDecCore
import SpecDecJSON
import Testing

/// Which stored tensor feeds the encoder embedding, the decoder embedding and the output
/// projection: the rules transformers follows for every subset of the four names
/// (tools/fixtures/make_token_table_rules.py).
@Suite struct Seq2SeqTokenTableTests {
    static let ownNames = [TokenTableNames.encoderEmbedding, TokenTableNames.decoderEmbedding, TokenTableNames.outputProjection]

    /// The token_tables entry of a fixture's reference.json.
    struct Recorded {
        let stored: [String]
        let roles: [String?]   // encoder, decoder, output
        init(_ j: JSONValue) {
            stored = (j["stored"]?.arrayValue ?? []).compactMap(\.stringValue)
            roles = ["encoder", "decoder", "output"].map { j[$0]?.stringValue }
        }
    }

    @Test func namesFollowTransformersForEveryStoredSubset() throws {
        let j = try Fixtures.json(Seq2SeqFixtures.directory("token_table_rules") + "/reference.json")
        let cases = j["cases"]?.arrayValue ?? []
        #expect(cases.count == 96)
        var refused = 0
        for c in cases {
            let recorded = Recorded(c)
            let bart = c["model_type"]?.stringValue == "bart"
            let shared = bart || c["share_encoder_decoder_embeddings"]?.boolValue == true
            let tied = c["tie_word_embeddings"]?.boolValue == true
            let label = "\(c["model_type"]?.stringValue ?? "?") shared \(shared) tied \(tied) stored \(recorded.stored)"
            do {
                let names = try TokenTableNames(sharedVocabulary: shared, tied: tied, directory: "/m", isStored: recorded.stored.contains)
                #expect([names.encoder, names.decoder, names.output] == recorded.roles, "\(label)")
            } catch {
                // transformers left some table randomly initialised: refused, naming each such table.
                refused += 1
                #expect(recorded.roles.contains(nil), "\(label): \(error.message)")
                #expect(error.kind == .shape)
                for (own, role) in zip(Self.ownNames, recorded.roles) {
                    #expect(error.message.contains(own) == (role == nil), "\(label): \(error.message)")
                }
            }
        }
        #expect(refused > 0 && refused < cases.count)
    }
}
