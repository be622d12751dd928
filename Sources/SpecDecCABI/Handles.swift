import SpecDecCore

/// What a `specdec_model_t *` points to.
final class ModelHandle {
    let model: any DecoderModel
    let typeName: OwnedCString

    init(model: any DecoderModel) {
        self.model = model
        typeName = OwnedCString(model.config.modelType)
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
