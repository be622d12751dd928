/// Chooses how many tokens to draft next: one more after a fully accepted draft, fewer
/// after an early rejection, and none (plain decoding) while measured time per token says
/// speculation does not pay; plain steps are probed against speculative ones now and then.
public struct AdaptiveDraftLength {
    public let maximum: Int
    public let adaptive: Bool
    public private(set) var current: Int
    private var speculativeSecondsPerToken: Double?
    private var plainSecondsPerToken: Double?
    private var round = 0
    private static let probeInterval = 32
    private static let smoothing = 0.2

    public init(maximum: Int, adaptive: Bool) {
        self.maximum = max(0, maximum)
        self.adaptive = adaptive
        current = self.maximum
    }

    /// Draft length for the next round (0 = a plain decoding step).
    public mutating func next() -> Int {
        guard adaptive, maximum > 0 else { return maximum }
        defer { round += 1 }
        var preferPlain = false
        if let s = speculativeSecondsPerToken, let p = plainSecondsPerToken { preferPlain = s > p * 1.05 }
        // The first two rounds of every interval try the other mode, so both estimates stay current.
        let probing = round % AdaptiveDraftLength.probeInterval < 2
        return (probing ? !preferPlain : preferPlain) ? 0 : current
    }

    /// Reports a finished round: draft length used, nodes accepted, tokens produced, time.
    public mutating func record(drafted: Int, accepted: Int, produced: Int, seconds: Double) {
        guard adaptive, produced > 0 else { return }
        let perToken = seconds / Double(produced)
        func blend(_ old: Double?) -> Double { old.map { $0 + AdaptiveDraftLength.smoothing * (perToken - $0) } ?? perToken }
        if drafted == 0 {
            plainSecondsPerToken = blend(plainSecondsPerToken)
            return
        }
        speculativeSecondsPerToken = blend(speculativeSecondsPerToken)
        if accepted == drafted {
            current = min(maximum, current + 1)
        } else if accepted < drafted / 2 {
            current = max(1, current - 1)
        }
    }
}
