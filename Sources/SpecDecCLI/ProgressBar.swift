import SpecDecCore

/// A one-line progress bar on stderr, redrawn in place.
struct ProgressBar {
    let total: Int
    let enabled: Bool
    private var lastDrawn = 0.0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && total > 0
    }

    mutating func advance(done: Int, summary: TranslationSummary) {
        guard enabled else { return }
        let now = Clock.now()
        guard done == total || now - lastDrawn > 0.1 else { return }
        lastDrawn = now
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        writeStandardError("\r[\(bar)] \(done)/\(total) sentences, \(format(summary.sentencesPerSecond)) sentences/s")
    }

    func finish() {
        if enabled { writeStandardError("\n") }
    }
}
