/// Spellings of the special tokens, before they are resolved to ids. They come from
/// tokenizer_config.json when the tokenizer is loaded from a model directory, and from
/// the tokenizer's own template and conventional names otherwise.
struct SpecialTokenNames: Sendable {
    var bos: String?
    var eos: String?
    var pad: String?
    var unk: String?

    static let conventionalBOS = ["<s>", "<|begin_of_text|>", "<|startoftext|>", "<bos>", "[CLS]"]
    static let conventionalEOS = ["</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|im_end|>", "[SEP]"]
    static let conventionalPad = ["<pad>", "[PAD]", "<|pad|>", "<|padding|>"]
    static let conventionalUnk = ["<unk>", "[UNK]", "<|unk|>"]

    /// Fills the unset names with the first conventional spelling `exists` accepts.
    mutating func fillConventional(_ exists: (String) -> Bool) {
        if bos == nil { bos = SpecialTokenNames.conventionalBOS.first(where: exists) }
        if eos == nil { eos = SpecialTokenNames.conventionalEOS.first(where: exists) }
        if pad == nil { pad = SpecialTokenNames.conventionalPad.first(where: exists) }
        if unk == nil { unk = SpecialTokenNames.conventionalUnk.first(where: exists) }
    }
}
