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

    init(session: Session, modelHandle: ModelHandle) {
        self.session = session
        self.modelHandle = modelHandle
        backendName = OwnedCString(session.arena.backend.name)
    }

    static func from(_ pointer: OpaquePointer) -> SessionHandle {
        Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}
