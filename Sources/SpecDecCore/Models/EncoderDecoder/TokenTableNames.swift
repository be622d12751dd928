/// The stored tensors an encoder-decoder reads its three token tables from: the encoder's
/// token embedding, the decoder's token embedding and the output projection.
///
/// These follow transformers 5, whose references the engine must match. MarianMTModel and
/// BartForConditionalGeneration give each role its own parameter (model.shared.weight is
/// never read by the forward pass) and tie them only while loading, and only when
/// tie_word_embeddings is true:
/// - a role whose own tensor is stored uses it, even when its value differs from the tensor
///   it would be tied to (transformers then declines to tie);
/// - a role whose own tensor is missing takes the first stored tensor of its tie group, in the
///   order model.shared, lm_head, model.decoder.embed_tokens, model.encoder.embed_tokens for a
///   shared vocabulary (all three roles form the group), and model.decoder.embed_tokens,
///   lm_head for Marian's separate vocabularies (the encoder embedding is not tied to anything);
/// - with tie_word_embeddings false nothing is tied, even with a shared vocabulary: each role
///   needs its own tensor, as transformers would leave a missing one randomly initialised.
/// So a checkpoint holding only model.decoder.embed_tokens and lm_head embeds its source
/// tokens with lm_head.
struct TokenTableNames: Equatable {
    static let shared = "model.shared.weight"
    static let encoderEmbedding = "model.encoder.embed_tokens.weight"
    static let decoderEmbedding = "model.decoder.embed_tokens.weight"
    static let outputProjection = "lm_head.weight"

    var encoder: String
    var decoder: String
    var output: String

    /// `sharedVocabulary`: one vocabulary for both sides (share_encoder_decoder_embeddings;
    /// always for BART). `tied`: tie_word_embeddings.
    init(sharedVocabulary: Bool, tied: Bool, directory: String, isStored: (String) -> Bool) throws(SpecDecError) {
        let e = Self.encoderEmbedding, d = Self.decoderEmbedding, o = Self.outputProjection
        func own(_ name: String, else group: [String]) -> String? {
            isStored(name) ? name : group.first(where: isStored)
        }
        let resolved: [String?]
        if !tied {
            resolved = [e, d, o].map { isStored($0) ? $0 : nil }
        } else if sharedVocabulary {
            let group = [Self.shared, o, d, e]
            resolved = [own(e, else: group), own(d, else: group), own(o, else: group)]
        } else {
            resolved = [own(e, else: []), own(d, else: [d, o]), own(o, else: [d, o])]
        }
        guard let encoder = resolved[0], let decoder = resolved[1], let output = resolved[2] else {
            throw .shape(Self.missingMessage(resolved, sharedVocabulary: sharedVocabulary, tied: tied, directory: directory))
        }
        self.encoder = encoder
        self.decoder = decoder
        self.output = output
    }

    private static func missingMessage(_ resolved: [String?], sharedVocabulary: Bool, tied: Bool, directory: String) -> String {
        let roles = [(encoderEmbedding, "the encoder embedding"), (decoderEmbedding, "the decoder embedding"),
                     (outputProjection, "the output projection")]
        let missing = zip(roles, resolved).filter { $0.1 == nil }.map(\.0)
        let names = missing.map(\.0).joined(separator: ", ")
        let what = missing.map(\.1).joined(separator: ", ")
        var reasons: [String] = []
        if !tied {
            reasons.append("tie_word_embeddings is false, so nothing is tied and each table must be stored under its own name"
                + (sharedVocabulary ? " (\(shared) is not read)" : ""))
        } else if sharedVocabulary {
            reasons.append("none of \(shared), \(outputProjection), \(decoderEmbedding), \(encoderEmbedding) is stored")
        } else {
            if resolved[0] == nil { reasons.append("share_encoder_decoder_embeddings is false, so the encoder embedding is tied to nothing") }
            if resolved[1] == nil { reasons.append("neither \(decoderEmbedding) nor \(outputProjection) is stored") }
        }
        return "missing \(missing.count == 1 ? "tensor" : "tensors") \(names) in \(directory): \(reasons.joined(separator: "; ")); transformers would leave \(what) randomly initialised"
    }
}
