import CSpecDecABI
import SpecDecCABI
import SpecDecCore
import SpecDecJSON

/// One parser that reads outside data, driven the way a host drives it: the input becomes
/// the file it stands for (beside valid companions from the fixtures) and goes in through
/// the C API, or straight to the parser for JSON and text. Every input must come back as a
/// result or a status; a crash, a sanitizer report or a hang is a bug.
enum FuzzTarget: String, CaseIterable {
    case json                 // JSONParser, both ways of reading numbers
    case safetensors          // a model's model.safetensors
    case modelConfig = "model-config"            // a decoder-only config.json
    case generationConfig = "generation-config"  // generation_config.json
    case seq2seqConfig = "seq2seq-config"        // an encoder-decoder (Marian) config.json
    case specDrafterConfig = "specdrafter-config"  // a Spec-Drafter's config.json
    case tokenizerJSON = "tokenizer-json"        // tokenizer.json
    case sentencePiece = "sentencepiece"         // a SentencePiece .model protobuf
    case marianVocab = "marian-vocab"            // a Marian directory's vocab.json
    case tokenizerText = "tokenizer-text"        // text given to loaded tokenizers, and ids to decode

    /// Companions of the safetensors and generation_config targets: a one-layer Llama of
    /// 13k parameters (Tests/Fuzz/seeds/make_seeds.py writes it and the other small seeds;
    /// every mutation of a large seed costs as much as loading the large file).
    static let tinyLlama = "Tests/Fuzz/seeds/tiny-llama"

    /// The files that seed the corpus (relative to the repository root): fixtures, or small
    /// files made from them where the fixture is large.
    var seeds: [String] {
        switch self {
        case .json: return ["Tests/Fixtures/decoder/llama_f32/config.json", "Tests/Fixtures/seq2seq/marian_f32/config.json",
                            "Tests/Fixtures/tokenizers/marian/tokenizer_config.json", "Tests/Fixtures/decoder/llama_f32/generation_config.json"]
        case .safetensors: return ["Tests/Fuzz/seeds/tiny-llama/model.safetensors", "Tests/Fuzz/seeds/safetensors/tiny-llama-f16.safetensors",
                                   "Tests/Fuzz/seeds/safetensors/tiny-llama-bf16.safetensors"]
        case .modelConfig: return ["Tests/Fixtures/decoder/llama_f32/config.json", "Tests/Fixtures/decoder/gpt2_f32/config.json",
                                   "Tests/Fixtures/decoder/qwen2_f32/config.json", "Tests/Fixtures/decoder/mistral_f32/config.json"]
        case .generationConfig: return ["Tests/Fixtures/decoder/llama_f32/generation_config.json"]
        case .seq2seqConfig: return ["Tests/Fixtures/seq2seq/marian_f32/config.json"]
        case .specDrafterConfig: return ["Tests/Fixtures/specdec/tiny-drafter/config.json"]
        case .tokenizerJSON: return ["albert-unigram", "bert-uncased-wordpiece", "bytelevel-bpe", "llama3-bpe", "metaspace-bpe", "metaspace-first-bpe",
                                     "nmt-nfkc-unigram", "precompiled-unigram", "qwen2-bpe", "unigram", "wordpiece"]
                .map { "Tests/Fuzz/seeds/tokenizer-json/\($0).json" }
        case .sentencePiece: return ["unigram", "bpe", "unigram-identity", "bpe-identity"].map { "Tests/Fuzz/seeds/sentencepiece/\($0).model" }
        case .marianVocab: return ["Tests/Fuzz/seeds/marian/vocab.json"]
        case .tokenizerText: return []  // lines of Tests/Fixtures/tokenizers/corpus.jsonl, one per seed (scripts/fuzz.sh)
        }
    }

    func run(_ input: UnsafeBufferPointer<UInt8>, workspace: FuzzWorkspace) {
        let bytes = Array(input)
        switch self {
        case .json:
            _ = try? JSONParser.parse(bytes)
            _ = try? JSONParser.parse(bytes, floats: .serdeJSONDefault)
        case .safetensors:
            workspace.loadModel(replacing: "model.safetensors", with: bytes, from: FuzzTarget.tinyLlama)
        case .modelConfig:
            workspace.loadModel(replacing: "config.json", with: bytes, from: "Tests/Fixtures/decoder/llama_f32")
        case .generationConfig:
            workspace.loadModel(replacing: "generation_config.json", with: bytes, from: FuzzTarget.tinyLlama)
        case .seq2seqConfig:
            workspace.loadModel(replacing: "config.json", with: bytes, from: "Tests/Fixtures/seq2seq/marian_f32")
        case .specDrafterConfig:
            let directory = workspace.directory(replacing: "config.json", with: bytes, from: "Tests/Fixtures/specdec/tiny-drafter")
            _ = try? SpecDrafterModel(directory: directory, options: LoadOptions())
        case .tokenizerJSON:
            let directory = workspace.directory(replacing: "tokenizer.json", with: bytes, from: nil)
            workspace.exerciseTokenizer(at: directory + "/tokenizer.json")
        case .sentencePiece:
            let directory = workspace.directory(replacing: "tokenizer.model", with: bytes, from: nil)
            workspace.exerciseTokenizer(at: directory + "/tokenizer.model")
        case .marianVocab:
            let directory = workspace.directory(replacing: "vocab.json", with: bytes, from: "Tests/Fuzz/seeds/marian",
                                                companions: ["source.spm", "target.spm", "tokenizer_config.json", "special_tokens_map.json"])
            workspace.exerciseTokenizer(at: directory)
        case .tokenizerText:
            workspace.exerciseLoadedTokenizers(with: bytes)
        }
    }
}
