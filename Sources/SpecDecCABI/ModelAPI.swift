import CSpecDecABI
import CSpecDecShims
import SpecDecCore

@_cdecl("specdec_model_default_params")
public func specdec_model_default_params() -> specdec_model_params_t {
    specdec_model_params_t(struct_size: UInt32(MemoryLayout<specdec_model_params_t>.size), use_mmap: 1,
                           weight_precision: SPECDEC_WEIGHTS_AUTO, kernel_path: SPECDEC_KERNELS_AUTO)
}

@_cdecl("specdec_kernel_path_name")
public func specdec_kernel_path_name(_ path: Int32) -> UnsafePointer<CChar> {
    let name: StaticString
    switch KernelPath(rawValue: path) {
    case .auto: name = "auto"
    case .portable: name = "portable"
    case .avx2: name = "avx2"
    case .avx512: name = "avx512"
    case .avx512BF16: name = "avx512_bf16"
    case .amx: name = "amx"
    case nil: name = "unknown"
    }
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("specdec_kernel_path_supported")
public func specdec_kernel_path_supported(_ path: Int32) -> Int32 {
    guard let path = KernelPath(rawValue: path) else { return 0 }
    return KernelPath.unsupportedReason(path) == nil ? 1 : 0
}

/// The load options a params struct asks for; unknown values are refused by name.
private func loadOptions(_ p: specdec_model_params_t) throws(SpecDecError) -> LoadOptions {
    guard let precision = WeightPrecision(rawValue: p.weight_precision) else {
        throw .invalidArgument("weight_precision \(p.weight_precision) is not a SPECDEC_WEIGHTS_* value (0 auto, 1 fp32, 2 bf16, 3 int8)")
    }
    guard let path = KernelPath(rawValue: p.kernel_path) else {
        throw .invalidArgument("kernel_path \(p.kernel_path) is not a SPECDEC_KERNELS_* value (0 auto ... 5 amx)")
    }
    return LoadOptions(useMmap: p.use_mmap != 0, precision: precision, kernelPath: path)
}

@_cdecl("specdec_model_load")
public func specdec_model_load(_ dir: UnsafePointer<CChar>?, _ params: UnsafePointer<specdec_model_params_t>?,
                               _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let outModel else { return fail(.invalidArgument, "out_model must not be NULL") }
    outModel.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let dir else { throw .invalidArgument("dir must not be NULL") }
        guard specdec_cpu_supported() == 1 else {
            throw .unsupported("this CPU lacks \(String(cString: specdec_cpu_requirement())), which this build of libspecdec requires")
        }
        let p = try readParams(params, defaults: specdec_model_default_params(), name: "specdec_model_params_t")
        let options = try loadOptions(p)
        let directory = String(cString: dir)
        let loaded: LoadedModel
        if isSpecDrafter(directory) {
            loaded = .specDrafter(try SpecDrafterModel(directory: directory, options: options))
        } else {
            switch try ModelFamily.detect(directory: directory) {
            case .decoderOnly: loaded = .decoder(try ModelLoader.load(directory: directory, options: options))
            case .encoderDecoder: loaded = .encoderDecoder(try EncoderDecoderLoader.load(directory: directory, options: options))
            }
        }
        outModel.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(loaded, directory: directory)).toOpaque())
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
        var info = specdec_model_info_t()
        info.struct_size = UInt32(MemoryLayout<specdec_model_info_t>.size)
        info.vocab_size = Int32(handle.vocabSize)
        info.context_length = Int32(handle.contextLength)
        info.bos_token_id = Int32(handle.bosTokenId ?? -1)
        info.eos_token_id = Int32(handle.eosTokenIds.first ?? -1)
        info.pad_token_id = Int32(handle.padTokenId ?? -1)
        info.num_parameters = Int64(handle.parameterCount)
        info.weight_precision = handle.weights.precision.rawValue
        info.kernel_path = handle.weights.kernelPath.rawValue
        info.weight_bytes = Int64(handle.weights.projectionBytes)
        switch handle.loaded {
        case .decoder(let m):
            let c = m.config
            info.architecture = c.architecture.rawValue
            info.hidden_size = Int32(c.hiddenSize)
            info.num_layers = Int32(c.layerCount)
            info.num_heads = Int32(c.headCount)
            info.num_kv_heads = Int32(c.kvHeadCount)
            info.is_encoder_decoder = 0
            info.source_vocab_size = Int32(c.vocabSize)
            info.decoder_start_token_id = -1
            info.max_source_length = 0
        case .specDrafter(let m):
            let c = m.config
            info.architecture = SPECDEC_ARCH_SPEC_DRAFTER
            info.hidden_size = Int32(c.hiddenSize)
            info.num_layers = Int32(c.decoderLayerCount)
            info.num_heads = Int32(c.decoderHeadCount)
            info.num_kv_heads = Int32(c.decoderHeadCount)
            info.is_encoder_decoder = 1
            info.source_vocab_size = Int32(c.vocabSize)
            info.decoder_start_token_id = -1
            info.max_source_length = Int32(c.maxPositions)
        case .encoderDecoder(let m):
            let c = m.config
            info.architecture = c.architecture == .marian ? SPECDEC_ARCH_MARIAN : SPECDEC_ARCH_BART
            info.hidden_size = Int32(c.hiddenSize)
            info.num_layers = Int32(c.decoderLayerCount)
            info.num_heads = Int32(c.decoderHeadCount)
            info.num_kv_heads = Int32(c.decoderHeadCount)
            info.is_encoder_decoder = 1
            info.source_vocab_size = Int32(c.sourceVocabSize)
            info.decoder_start_token_id = Int32(c.decoderStartTokenId)
            info.max_source_length = Int32(c.maxSourcePositions)
        }
        try writeOut(info, to: outInfo, name: "specdec_model_info_t")
    }
}

@_cdecl("specdec_model_vocab_size")
public func specdec_model_vocab_size(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).vocabSize) } ?? -1
}

@_cdecl("specdec_model_context_length")
public func specdec_model_context_length(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).contextLength) } ?? -1
}

@_cdecl("specdec_model_bos_token")
public func specdec_model_bos_token(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).bosTokenId ?? -1) } ?? -1
}

@_cdecl("specdec_model_eos_token")
public func specdec_model_eos_token(_ model: OpaquePointer?) -> Int32 {
    model.map { Int32(ModelHandle.from($0).eosTokenIds.first ?? -1) } ?? -1
}

@_cdecl("specdec_model_eos_tokens")
public func specdec_model_eos_tokens(_ model: OpaquePointer?, _ buf: UnsafeMutablePointer<Int32>?, _ cap: Int32,
                                     _ outLen: UnsafeMutablePointer<Int32>?) -> specdec_status {
    guarded { () throws(SpecDecError) in
        guard let model else { throw .invalidArgument("model must not be NULL") }
        let ids = ModelHandle.from(model).eosTokenIds.map { Int32($0) }
        try ids.withUnsafeBufferPointer { (ids) throws(SpecDecError) in try copyOut(ids, to: buf, capacity: cap, length: outLen) }
    }
}

private let emptyString: StaticString = ""

@_cdecl("specdec_model_type")
public func specdec_model_type(_ model: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let model else { return UnsafeRawPointer(emptyString.utf8Start).assumingMemoryBound(to: CChar.self) }
    return UnsafePointer(ModelHandle.from(model).typeName.pointer)
}

/// Whether a directory holds SpecDec's Spec-Drafter (model_type "specdec_drafter").
func isSpecDrafter(_ directory: String) -> Bool {
    guard let bytes = try? MappedFile.readAll(FileSystem.join(directory, "config.json")) else { return false }
    return String(decoding: bytes, as: UTF8.self).contains("\"specdec_drafter\"")
}
