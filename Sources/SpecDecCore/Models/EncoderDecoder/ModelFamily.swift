/// Which kind of model a directory holds, so that a caller (the C ABI, the CLI) knows whether
/// to load it with `ModelLoader` (decoder-only) or `EncoderDecoderLoader`.
public enum ModelFamily: Int32, Sendable {
    case decoderOnly = 1
    case encoderDecoder = 2

    /// Reads config.json: marian and bart (and any config with "is_encoder_decoder": true) are
    /// encoder-decoder models; everything else goes to the decoder-only loader, which reports
    /// architectures it does not know. Errors: `.io` (no directory or config.json), `.format`.
    public static func detect(directory: String) throws(SpecDecError) -> ModelFamily {
        let (object, path) = try ConfigFile.read(directory: directory)
        guard let type = object["model_type"]?.stringValue else { throw .format("\(path): missing \"model_type\"") }
        if EncoderDecoderConfig.supportedTypes.contains(type) || object["is_encoder_decoder"]?.boolValue == true {
            return .encoderDecoder
        }
        return .decoderOnly
    }
}
