/// The Spec-Drafter's activations for one pass (encoding a source, or drafting for a
/// batch), reused from pass to pass: they are carved from an arena sized for the most rows
/// a call will run (`reserve`), so once reserved a drafting round allocates nothing. The
/// arena is an anonymous mapping: rows reserved but never used cost no memory. One
/// workspace serves one pass at a time.
public final class SpecDrafterWorkspace {
    /// Row buffers: rows × hiddenSize (x, q, k, v, mixed, out) and rows × the wider
    /// feed-forward (hidden); slot buffers: slots × hiddenSize and slots × vocabulary.
    struct Buffers {
        var x, q, k, v, mixed, out, hidden, slots, logits, scores: UnsafeMutablePointer<Float>
    }

    private let hiddenSize, feedForwardSize, vocabSize, maxKeys: Int
    private var arena: Arena
    private(set) var buffers: Buffers
    private(set) var rowCapacity: Int
    private(set) var slotCapacity: Int
    /// Projections without a thread pool quantise or pad their input here.
    let scratch = ActivationScratch()
    /// Per-pass lists, emptied and refilled (their storage stays): each sequence's rows,
    /// and what each sequence's rows attend to next (keys, values, key count).
    var segments: [Range<Int>] = []
    var attentionKeys: [UnsafePointer<Float>] = []
    var attentionValues: [UnsafePointer<Float>] = []
    var keyCounts: [Int] = []

    /// Empties the attention lists; `attend` then adds each sequence's keys in order.
    func clearAttention() {
        attentionKeys.removeAll(keepingCapacity: true)
        attentionValues.removeAll(keepingCapacity: true)
        keyCounts.removeAll(keepingCapacity: true)
    }

    func attend(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int) {
        attentionKeys.append(keys)
        attentionValues.append(values)
        keyCounts.append(count)
    }

    public init(config: SpecDrafterConfig) throws(SpecDecError) {
        hiddenSize = config.hiddenSize
        feedForwardSize = max(config.encoderFeedForwardSize, config.decoderFeedForwardSize)
        vocabSize = config.vocabSize
        maxKeys = config.maxPositions
        rowCapacity = config.maxPositions
        slotCapacity = config.blockSize
        (arena, buffers) = try Self.carve(rows: rowCapacity, slots: slotCapacity, hiddenSize: hiddenSize,
                                          feedForwardSize: feedForwardSize, vocabSize: vocabSize, maxKeys: maxKeys)
    }

    /// Makes room for passes of up to `rows` rows, `slots` mask slots and `sequences`
    /// sequences (a new arena when the rows or slots grow; nothing otherwise).
    public func reserve(rows: Int, slots: Int, sequences: Int = 1) throws(SpecDecError) {
        segments.reserveCapacity(sequences)
        attentionKeys.reserveCapacity(sequences)
        attentionValues.reserveCapacity(sequences)
        keyCounts.reserveCapacity(sequences)
        guard rows > rowCapacity || slots > slotCapacity else { return }
        let newRows = max(rows, rowCapacity), newSlots = max(slots, slotCapacity)
        (arena, buffers) = try Self.carve(rows: newRows, slots: newSlots, hiddenSize: hiddenSize,
                                          feedForwardSize: feedForwardSize, vocabSize: vocabSize, maxKeys: maxKeys)
        rowCapacity = newRows
        slotCapacity = newSlots
    }

    private static func carve(rows: Int, slots: Int, hiddenSize d: Int, feedForwardSize f: Int, vocabSize: Int,
                              maxKeys: Int) throws(SpecDecError) -> (Arena, Buffers) {
        let counts = [rows * d, rows * d, rows * d, rows * d, rows * d, rows * d, rows * f, slots * d, slots * vocabSize, maxKeys]
        let arena = try Arena(byteCount: counts.reduce(0) { $0 + Arena.footprint(Float.self, count: $1) }, backend: .mmap)
        var carved: [UnsafeMutablePointer<Float>] = []
        for count in counts { carved.append(try arena.allocate(Float.self, count: count)) }
        let buffers = Buffers(x: carved[0], q: carved[1], k: carved[2], v: carved[3], mixed: carved[4], out: carved[5],
                              hidden: carved[6], slots: carved[7], logits: carved[8], scores: carved[9])
        return (arena, buffers)
    }
}
