import SpecDecCore
import SpecDecTokenizers

/// A loaded model of either family.
enum LoadedModel {
    case decoder(any DecoderModel)
    case encoderDecoder(EncoderDecoderModel)
    /// SpecDec's Spec-Drafter: only ever a draft model (SPECDEC_DRAFTER_SPECDEC).
    case specDrafter(SpecDrafterModel)
}

/// What a `specdec_model_t *` points to.
final class ModelHandle {
    let loaded: LoadedModel
    let typeName: OwnedCString
    let directory: String
    /// Loaded on first use (a model directory need not have a tokenizer), under a lock:
    /// sessions on several threads may ask for it at once.
    private let tokenizers = PThreadLock(LoadedTokenizers())

    private struct LoadedTokenizers {
        var source: Result<any Tokenizer, SpecDecError>?
        var target: Result<any Tokenizer, SpecDecError>?
    }

    init(_ loaded: LoadedModel, directory: String) {
        self.loaded = loaded
        self.directory = directory
        switch loaded {
        case .decoder(let m): typeName = OwnedCString(m.config.modelType)
        case .encoderDecoder(let m): typeName = OwnedCString(m.config.modelType)
        case .specDrafter: typeName = OwnedCString("specdec_drafter")
        }
    }

    /// The tensors, with the precision and kernel path of the load.
    var weights: WeightStore {
        switch loaded {
        case .decoder(let m): return m.weights
        case .encoderDecoder(let m): return m.weights
        case .specDrafter(let m): return m.weights
        }
    }

    var vocabSize: Int {
        switch loaded {
        case .decoder(let m): return m.config.vocabSize
        case .encoderDecoder(let m): return m.config.vocabSize
        case .specDrafter(let m): return m.config.vocabSize
        }
    }
    var contextLength: Int {
        switch loaded {
        case .decoder(let m): return m.config.contextLength
        case .encoderDecoder(let m): return m.config.contextLength
        case .specDrafter(let m): return m.config.maxPositions
        }
    }
    var bosTokenId: Int? {
        switch loaded {
        case .decoder(let m): return m.config.bosTokenId
        case .encoderDecoder(let m): return m.config.bosTokenId
        case .specDrafter: return nil
        }
    }
    var eosTokenIds: [Int] {
        switch loaded {
        case .decoder(let m): return m.config.eosTokenIds
        case .encoderDecoder(let m): return m.config.eosTokenIds
        case .specDrafter(let m): return m.config.eosTokenId.map { [$0] } ?? []
        }
    }
    var padTokenId: Int? {
        switch loaded {
        case .decoder(let m): return m.config.padTokenId
        case .encoderDecoder(let m): return m.config.padTokenId
        case .specDrafter(let m): return m.config.padTokenId
        }
    }
    var parameterCount: Int {
        switch loaded {
        case .decoder(let m): return m.parameterCount
        case .encoderDecoder(let m): return m.parameterCount
        case .specDrafter: return 0
        }
    }

    /// The decoder-only model, or an error naming the call to use instead.
    func decoderModel(for purpose: String) throws(SpecDecError) -> any DecoderModel {
        guard case .decoder(let m) = loaded else {
            throw .invalidArgument("\(directory) is not a decoder-only model; \(purpose) needs one")
        }
        return m
    }

    /// The tokenizer that decodes the target side (Marian: target.spm; else the only one).
    func targetTokenizer() throws(SpecDecError) -> any Tokenizer {
        let directory = directory
        let result = tokenizers.withLock { loaded in
            if let target = loaded.target { return target }
            let made = ModelHandle.loadTokenizer(directory) { () throws(TokenizerError) in try TokenizerLoader.loadPair(path: directory).target }
            loaded.target = made
            return made
        }
        return try result.get()
    }

    /// The tokenizer in the model's directory.
    func tokenizer() throws(SpecDecError) -> any Tokenizer {
        let directory = directory
        let result = tokenizers.withLock { loaded in
            if let source = loaded.source { return source }
            let made = ModelHandle.loadTokenizer(directory) { () throws(TokenizerError) in try TokenizerLoader.load(path: directory) }
            loaded.source = made
            return made
        }
        return try result.get()
    }

    private static func loadTokenizer(_ directory: String, _ load: () throws(TokenizerError) -> any Tokenizer) -> Result<any Tokenizer, SpecDecError> {
        do throws(TokenizerError) { return .success(try load()) } catch {
            return .failure(.unsupported("the model directory \(directory) has no usable tokenizer: \(error.message)"))
        }
    }

    static func from(_ pointer: OpaquePointer) -> ModelHandle {
        Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}
