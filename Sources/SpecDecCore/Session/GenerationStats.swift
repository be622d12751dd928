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
    /// Forward passes of the target after the prefill (plain decoding: one per token).
    public var targetCalls = 0
    /// Speculative decoding: draft nodes scored, nodes accepted, and per draft depth
    /// (index 0 = the first drafted token) how often a node at that depth was drafted
    /// and how often one was accepted.
    public var draftedTokens = 0
    public var acceptedTokens = 0
    public var draftedAtDepth: [Int] = []
    public var acceptedAtDepth: [Int] = []
    public var draftSeconds = 0.0
    public var verifySeconds = 0.0
    public var sampleSeconds = 0.0

    public init() {}

    /// Generated tokens per target forward pass (1 for plain decoding).
    public var tokensPerTargetCall: Double {
        targetCalls > 0 ? Double(generatedTokens - 1) / Double(targetCalls) : 0
    }

    /// Accepted share of drafted nodes at each depth.
    public var acceptanceRateByDepth: [Double] {
        zip(acceptedAtDepth, draftedAtDepth).map { $1 > 0 ? Double($0) / Double($1) : 0 }
    }

    /// Adds another request's counts and times (a batch call decoded one by one).
    mutating func add(_ other: GenerationStats) {
        promptTokens += other.promptTokens
        reusedTokens += other.reusedTokens
        generatedTokens += other.generatedTokens
        prefillSeconds += other.prefillSeconds
        decodeSeconds += other.decodeSeconds
        targetCalls += other.targetCalls
        draftedTokens += other.draftedTokens
        acceptedTokens += other.acceptedTokens
        draftSeconds += other.draftSeconds
        verifySeconds += other.verifySeconds
        sampleSeconds += other.sampleSeconds
    }

    /// Makes room for drafts up to `depth` deep, so that recording them allocates nothing.
    mutating func reserveDraftDepths(_ depth: Int) {
        draftedAtDepth.reserveCapacity(depth)
        acceptedAtDepth.reserveCapacity(depth)
    }

    mutating func recordDraft(_ draft: Draft, accepted: Int) {
        draftedTokens += draft.count
        acceptedTokens += accepted
        for i in 0..<draft.count {
            let d = draft.depth(i)
            while draftedAtDepth.count < d { draftedAtDepth.append(0); acceptedAtDepth.append(0) }
            draftedAtDepth[d - 1] += 1
        }
        for d in 0..<accepted { acceptedAtDepth[d] += 1 }
    }

    public var prefillTokensPerSecond: Double {
        prefillSeconds > 0 ? Double(promptTokens - reusedTokens) / prefillSeconds : 0
    }
    /// Tokens after the first (which comes from the prefill's logits) per decode second.
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(0, generatedTokens - 1)) / decodeSeconds : 0
    }
}
