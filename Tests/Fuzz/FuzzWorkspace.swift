import CSpecDecABI
import SpecDecCABI
#if canImport(Glibc)
import Glibc
#endif

/// Where a fuzz input becomes a file: a private directory (on /dev/shm when it exists)
/// holding the input under its file name and links to the valid companion files of a fixture.
final class FuzzWorkspace {
    let root: String
    let repository: String
    private var loadedTokenizers: [OpaquePointer] = []
    /// Output buffers for encoding and decoding, allocated once rather than per input.
    private let ids = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4096)
    private let textBuffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: 1 << 16)

    init(repository: String) {
        self.repository = repository
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/specdec-fuzz-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    /// A directory with `name` holding `bytes` and, from `fixture`, every other file linked.
    func directory(replacing name: String, with bytes: [UInt8], from fixture: String?, companions: [String]? = nil) -> String {
        let directory = root + "/case"
        for entry in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer.model",
                      "vocab.json", "source.spm", "target.spm", "tokenizer_config.json", "special_tokens_map.json"] {
            unlink(directory + "/" + entry)
        }
        mkdir(directory, 0o700)
        if let fixture {
            for companion in companions ?? ["config.json", "generation_config.json", "model.safetensors"] where companion != name {
                let source = repository + "/" + fixture + "/" + companion
                if access(source, R_OK) == 0 { symlink(source, directory + "/" + companion) }
            }
        }
        let descriptor = open(directory + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if descriptor >= 0 {
            bytes.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
        return directory
    }

    /// Loads the model through the C API and, when it loads, generates a few tokens.
    func loadModel(replacing name: String, with bytes: [UInt8], from fixture: String) {
        let path = directory(replacing: name, with: bytes, from: fixture)
        var model: OpaquePointer?
        guard SpecDecCABI.specdec_model_load(path, nil, &model) == SPECDEC_OK, let model else { return }
        defer { SpecDecCABI.specdec_model_destroy(model) }
        var session: OpaquePointer?
        var params = SpecDecCABI.specdec_session_default_params()
        params.kv_capacity = 16
        // What AUTO falls back to here anyway: jemalloc cannot be loaded late into this
        // process, and asking means a failed dlopen per input.
        params.arena_backend = SPECDEC_ARENA_MMAP
        guard SpecDecCABI.specdec_session_create(model, &params, &session) == SPECDEC_OK, let session else { return }
        defer { SpecDecCABI.specdec_session_destroy(session) }
        var generate = SpecDecCABI.specdec_generate_default_params()
        generate.max_new_tokens = 4
        var out = [Int32](repeating: 0, count: 4)
        var count: Int32 = 0
        let ids: [Int32] = [1, 2, 3]
        _ = SpecDecCABI.specdec_generate(session, ids, 3, &generate, &out, 4, &count)
        var source: [Int32] = [5, 6, 0]
        _ = SpecDecCABI.specdec_generate_seq2seq(session, &source, 3, nil, 0, &generate, nil, &out, 4, &count)
    }

    /// Loads a tokenizer through the C API and encodes and decodes with it.
    func exerciseTokenizer(at path: String) {
        var tokenizer: OpaquePointer?
        guard SpecDecCABI.specdec_tokenizer_load(path, &tokenizer) == SPECDEC_OK, let tokenizer else { return }
        defer { SpecDecCABI.specdec_tokenizer_destroy(tokenizer) }
        exercise(tokenizer, text: Array("Hello wörld, 123 <s> ½ 東京 \u{1F642}\t\n".utf8))
    }

    /// The input as text to every fixture tokenizer, and its bytes as ids to decode.
    func exerciseLoadedTokenizers(with bytes: [UInt8]) {
        if loadedTokenizers.isEmpty {
            for path in ["Tests/Fixtures/tokenizers/bytelevel-bpe/tokenizer.json", "Tests/Fixtures/tokenizers/albert-unigram/tokenizer.json",
                         "Tests/Fixtures/tokenizers/bert-uncased-wordpiece/tokenizer.json", "Tests/Fixtures/tokenizers/precompiled-unigram/tokenizer.json",
                         "Tests/Fixtures/tokenizers/sp-unigram/tokenizer.model", "models/specdec-en-de-verifier"] {
                var tokenizer: OpaquePointer?
                if SpecDecCABI.specdec_tokenizer_load(repository + "/" + path, &tokenizer) == SPECDEC_OK, let tokenizer { loadedTokenizers.append(tokenizer) }
            }
        }
        for tokenizer in loadedTokenizers { exercise(tokenizer, text: bytes) }
    }

    private func exercise(_ tokenizer: OpaquePointer, text: [UInt8]) {
        var count: Int32 = 0
        // The text with a NUL after it, so that empty input still has an address.
        var padded = text.map { CChar(bitPattern: $0) }
        padded.append(0)
        _ = SpecDecCABI.specdec_tokenize(tokenizer, padded, text.count, 1, ids.baseAddress, Int32(ids.count), &count)
        // The bytes read as ids too, in and out of range.
        var asIds = stride(from: 0, to: text.count - 1, by: 2).map { Int32(text[$0]) << 8 | Int32(text[$0 + 1]) - 16 }
        if count > 0 { asIds += ids[0..<Int(min(count, Int32(ids.count)))] }
        var length = 0
        for skip: Int32 in [0, 1] {
            _ = SpecDecCABI.specdec_detokenize(tokenizer, asIds, Int32(asIds.count), skip, self.textBuffer.baseAddress, self.textBuffer.count, &length)
        }
        if let first = asIds.first { _ = SpecDecCABI.specdec_token_to_piece(tokenizer, first, self.textBuffer.baseAddress, self.textBuffer.count, &length) }
    }
}
