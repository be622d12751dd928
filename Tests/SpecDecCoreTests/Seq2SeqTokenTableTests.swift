@testable import SpecDecCore
import SpecDecJSON
import Testing

/// Which stored tensor feeds the encoder embedding, the decoder embedding and the output
/// projection: the rules transformers follows for every subset of the four names
/// (tools/fixtures/make_token_table_rules.py), and the token-table fixtures, whose stored
/// tables all hold different values (parity on them is in Seq2SeqParityTests).
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

    @Test(arguments: Seq2SeqFixtures.tokenTableNames)
    func storedTablesDifferAndResolveAsTransformersLoadedThem(_ name: String) throws {
        let directory = Seq2SeqFixtures.directory(name)
        let recorded = Recorded(try Fixtures.json(directory + "/reference.json")["token_tables"] ?? .null)
        let weights = try WeightStore(directory: directory)
        let all = [TokenTableNames.shared] + Self.ownNames
        #expect(recorded.stored == all.filter(weights.contains).sorted())
        for a in recorded.stored {
            for b in recorded.stored where a < b { #expect(!weights.storesSameBytes(a, b), "\(name): \(a) and \(b) are equal") }
        }
        let config = try EncoderDecoderConfig.load(directory: directory)
        let names = try TokenTableNames(sharedVocabulary: config.sharedEmbeddings, tied: config.tiedEmbeddings,
                                        directory: directory, isStored: weights.contains)
        #expect([names.encoder, names.decoder, names.output] == recorded.roles)
    }

    /// Parity depends on every table the model reads: with any one of them hidden, the scores
    /// move away from transformers' or the load is refused naming it.
    @Test(arguments: Seq2SeqFixtures.tokenTableNames)
    func everyTableReadMatters(_ name: String) throws {
        let directory = Seq2SeqFixtures.directory(name)
        let reference = try Seq2SeqReference(directory: directory)
        let recorded = Recorded(try Fixtures.json(directory + "/reference.json")["token_tables"] ?? .null)
        for hidden in Set(recorded.roles.compactMap { $0 }) {
            let dir = TemporaryDirectory()
            try dir.copyModel(from: directory, weights: { $0.replacingFirst("\"\(hidden)\"", with: "\"\(hidden.dropLast())x\"") })
            let model: EncoderDecoderModel
            do { model = try EncoderDecoderLoader.load(directory: dir.path) } catch {
                #expect(error.kind == .shape && error.message.contains("missing tensor"), "\(name) without \(hidden): \(error.message)")
                continue
            }
            let session = try Seq2SeqSession(model: model, sourceCapacity: 32, capacity: 32, threads: 1)
            let logprobs = try session.teacherForcedLogProbabilities(source: reference.sourceIds, target: reference.targetIds)
            let worst = zip(logprobs, reference.logprobs).map { abs($0 - $1) }.max() ?? 0
            #expect(worst > 0.1, "\(name) without \(hidden): max |Δ log p| = \(worst)")
        }
    }

    /// Two roles' tables stored with the same bytes are read once, as transformers ties equal
    /// tensors (older checkpoints repeat the shared table under each side's name).
    @Test func aRepeatedTableIsReadOnce() throws {
        let directory = Seq2SeqFixtures.directory("marian_tables_f32")
        let original = try EncoderDecoderLoader.load(directory: directory)
        let dir = TemporaryDirectory()
        let bytes = try MappedFile.readAll(directory + "/model.safetensors")
            .copyingTensor(TokenTableNames.decoderEmbedding, over: TokenTableNames.encoderEmbedding)
        try dir.copyModel(from: directory, weights: { _ in bytes })
        let repeated = try EncoderDecoderLoader.load(directory: dir.path)
        let table = original.config.sourceVocabSize * original.config.hiddenSize
        #expect(repeated.parameterCount == original.parameterCount - table)
        #expect(try WeightStore(directory: dir.path).storesSameBytes(TokenTableNames.decoderEmbedding, TokenTableNames.encoderEmbedding))
    }
}

extension Array where Element == UInt8 {
    /// A safetensors file with tensor `target`'s bytes replaced by those of `source` (same size).
    func copyingTensor(_ source: String, over target: String) throws -> [UInt8] {
        let headerLength = (0..<8).reduce(0) { $0 | Int(self[$1]) << (8 * $1) }
        let header = try JSONParser.parse(Array(self[8..<(8 + headerLength)]))
        func range(_ name: String) -> Range<Int> {
            let offsets = (header[name]?["data_offsets"]?.arrayValue ?? []).compactMap(\.intValue)
            return (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])
        }
        let from = range(source), to = range(target)
        precondition(from.count == to.count)
        var bytes = self
        bytes.replaceSubrange(to, with: self[from])
        return bytes
    }
}
