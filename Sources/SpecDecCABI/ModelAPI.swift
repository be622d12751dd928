import CSpecDecABI
import CSpecDecShims
import SpecDecCore

@_cdecl("specdec_model_default_params")
public func specdec_model_default_params() -> specdec_model_params_t {
    specdec_model_params_t(struct_size: UInt32(MemoryLayout<specdec_model_params_t>.size), use_mmap: 1)
}

@_cdecl("specdec_model_load")
public func specdec_model_load(_ dir: UnsafePointer<CChar>?, _ params: UnsafePointer<specdec_model_params_t>?,
                               _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let outModel else { return fail(.invalidArgument, "out_model must not be NULL") }
    outModel.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let dir else { throw .invalidArgument("dir must not be NULL") }
        guard specdec_cpu_supported() == 1 else {
            throw .unsupported("this CPU lacks AVX-512 (F/BW/DQ/VL) and FMA, which this build of libspecdec requires")
        }
        let p = try readParams(params, defaults: specdec_model_default_params(), name: "specdec_model_params_t")
        let directory = String(cString: dir)
        let model = try ModelLoader.load(directory: directory, useMmap: p.use_mmap != 0)
        outModel.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(model: model, directory: directory)).toOpaque())
    }
}

@_cdecl("specdec_model_destroy")
public func specdec_model_destroy(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

@_cdecl("specdec_model_get_info")
public func specdec_model_get_info(_ model: OpaquePointer?, _ outInfo: UnsafeMutablePointer<specdec_model_info_t>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let model else { throw .invalidArgument("model must not be NULL") }
        guard let outInfo else { throw .invalidArgument("out_info must not be NULL") }
        let handle = ModelHandle.from(model)
        let c = handle.model.config
        var info = specdec_model_info_t()
        info.struct_size = UInt32(MemoryLayout<specdec_model_info_t>.size)
        info.architecture = c.architecture.rawValue
        info.vocab_size = Int32(c.vocabSize)
        info.context_length = Int32(c.contextLength)
        info.hidden_size = Int32(c.hiddenSize)
        info.num_layers = Int32(c.layerCount)
        info.num_heads = Int32(c.headCount)
        info.num_kv_heads = Int32(c.kvHeadCount)
        info.bos_token_id = Int32(c.bosTokenId ?? -1)
        info.eos_token_id = Int32(c.eosTokenIds.first ?? -1)
        info.pad_token_id = Int32(c.padTokenId ?? -1)
        info.num_parameters = Int64(handle.model.parameterCount)
        try writeOut(info, to: outInfo, name: "specdec_model_info_t")
    }
}

@_cdecl("specdec_model_vocab_size")
public func specdec_model_vocab_size(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).model.config.vocabSize) } ?? -1
}

@_cdecl("specdec_model_context_length")
public func specdec_model_context_length(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).model.config.contextLength) } ?? -1
}

@_cdecl("specdec_model_bos_token")
public func specdec_model_bos_token(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).model.config.bosTokenId ?? -1) } ?? -1
}

@_cdecl("specdec_model_eos_token")
public func specdec_model_eos_token(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).model.config.eosTokenIds.first ?? -1) } ?? -1
}

@_cdecl("specdec_model_eos_tokens")
public func specdec_model_eos_tokens(_ model: OpaquePointer?, _ buf: UnsafeMutablePointer<Int32>?, _ cap: Int32,
                                     _ outLen: UnsafeMutablePointer<Int32>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let model else { throw .invalidArgument("model must not be NULL") }
        let ids = ModelHandle.from(model).model.config.eosTokenIds.map { Int32($0) }
        try ids.withUnsafeBufferPointer { (ids) throws(SpecDecError) in try copyOut(ids, to: buf, capacity: cap, length: outLen) }
    }
}

private let emptyString: StaticString = ""

@_cdecl("specdec_model_type")
public func specdec_model_type(_ model: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let model else { return UnsafeRawPointer(emptyString.utf8Start).assumingMemoryBound(to: CChar.self) }
    return UnsafePointer(ModelHandle.from(model).typeName.pointer)
}
