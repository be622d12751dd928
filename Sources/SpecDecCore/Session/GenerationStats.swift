/// Why a generation ended (values match the C ABI's SPECDEC_STOP_*).
public enum StopReason: Int32, Sendable {
    case none = 0
    case maxTokens = 1
    case stopToken = 2
    case callback = 3
    case capacity = 4
    case error = 5
}

/// Counters and timings of a session's most recent generation.
public struct GenerationStats: Sendable {
    public var promptTokens = 0
    public var reusedTokens = 0
    public var generatedTokens = 0
    public var stopReason = StopReason.none
    public var prefillSeconds = 0.0
    public var decodeSeconds = 0.0

    public init() {}

    public var prefillTokensPerSecond: Double {
        prefillSeconds > 0 ? Double(promptTokens - reusedTokens) / prefillSeconds : 0
    }
    /// Tokens after the first (which comes from the prefill's logits) per decode second.
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(0, generatedTokens - 1)) / decodeSeconds : 0
    }
}
