/// What a streaming callback asks the generation loop to do next.
public enum TokenAction: Sendable {
    case proceed
    case stop
    case fail
}

/// Everything a single `generate` call takes besides the prompt.
public struct GenerationOptions {
    public var maxNewTokens = 128
    public var sampling = SamplingParameters()
    public var stopTokens: [Int32] = []
    public var stopAtEndOfSequence = true

    public init() {}
}
