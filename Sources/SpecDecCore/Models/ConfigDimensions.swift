/// The range config.json dimensions must fall in. Sessions and tensors are sized from
/// products of a few of them, so a bound on each keeps those products from overflowing and
/// refuses a config that claims terabytes before anything is sized from it.
enum ConfigDimensions {
    /// Every dimension (vocabulary, widths, layers, heads, context length).
    static let limit = 1 << 24
    /// Positions of an encoder-decoder model, whose sinusoidal table is computed at load
    /// (one row per position); real models have at most a few thousand.
    static let encoderDecoderPositionLimit = 1 << 20

    /// Throws a format error naming the first entry outside 1..<limit.
    static func check(_ dimensions: [(key: String, value: Int)], below limit: Int = limit, path: String) throws(SpecDecError) {
        for (key, value) in dimensions where value <= 0 || value >= limit {
            throw .format("\(path): \"\(key)\" is \(value); this engine accepts values in 1..<\(limit)")
        }
    }
}
