import SpecDecCore
import SpecDecTokenizers

/// What a `specdec_model_t *` points to.
final class ModelHandle {
    let model: any DecoderModel
    let typeName: OwnedCString
    let directory: String
    /// Loaded on first use; a model directory need not have a tokenizer.
    private var loadedTokenizer: Result<any Tokenizer, SpecDecError>?

    init(model: any DecoderModel, directory: String) {
        self.model = model
        self.directory = directory
        typeName = OwnedCString(model.config.modelType)
    }

    /// The tokenizer in the model's directory. Loading is guarded by the caller's use of
    /// the model from one thread at a time per session; concurrent first uses may load twice.
    func tokenizer() throws(SpecDecError) -> any Tokenizer {
        if let loadedTokenizer { return try loadedTokenizer.get() }
        let result: Result<any Tokenizer, SpecDecError>
        do throws(TokenizerError) { result = .success(try TokenizerLoader.load(path: directory)) } catch {
            result = .failure(.unsupported("the model directory \(directory) has no usable tokenizer: \(error.message)"))
        }
        loadedTokenizer = result
        return try result.get()
    }

    static func from(_ pointer: OpaquePointer) -> ModelHandle {
        Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

/// What a `specdec_session_t *` points to. It keeps its model alive, so destroying the
/// model before its sessions cannot leave them dangling.
final class SessionHandle {
    let session: Session
    let modelHandle: ModelHandle
    let backendName: OwnedCString
    var errorMessage = OwnedCString("")
    /// Text of the last specdec_generate_text call.
    var lastText = ""
    /// Drafters that live as long as the session: the suffix tree remembers earlier
    /// requests, and a draft model keeps its own session and cache.
    private var suffix: SuffixDrafter?
    private var modelDrafters: [ObjectIdentifier: (model: ModelHandle, drafter: ModelDrafter)] = [:]

    var suffixDrafter: SuffixDrafter {
        if let suffix { return suffix }
        let made = SuffixDrafter()
        suffix = made
        return made
    }

    func modelDrafter(for draft: ModelHandle) throws(SpecDecError) -> ModelDrafter {
        // The cached entry keeps its model handle alive, so the identifier cannot be reused.
        if let existing = modelDrafters[ObjectIdentifier(draft)] { return existing.drafter }
        let made = try ModelDrafter(model: draft.model, target: session.config, capacity: session.capacity,
                                    threads: session.pool.threadCount, backend: session.arena.backend)
        modelDrafters[ObjectIdentifier(draft)] = (draft, made)
        return made
    }

    init(session: Session, modelHandle: ModelHandle) {
        self.session = session
        self.modelHandle = modelHandle
        backendName = OwnedCString(session.arena.backend.name)
    }

    static func from(_ pointer: OpaquePointer) -> SessionHandle {
        Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}
