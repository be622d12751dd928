/// The state of a beam search, in an arena of its own, sized for `beams` hypotheses of up to
/// `maxLength` decoder tokens (start token included) and `candidates` = K top continuations per
/// step. Created on a session's first beam search (or by `reserveBeams`) and reused while it fits.
///
/// The beams share one decoder cache: the start token's slot, then `beams` new slots per step.
/// A hypothesis is the list of its slots (`history`), so reordering beams copies slot indices,
/// never keys or values.
final class BeamWorkspace {
    let beams: Int
    let maxLength: Int
    let candidates: Int
    let arena: Arena
    var cache: KVCache
    let logits: UnsafeMutablePointer<Float>          // [beams][vocab]
    let history: UnsafeMutablePointer<Int32>         // [2][beams][maxLength] cache slots of each running beam
    let historyLengths: UnsafeMutablePointer<Int32>  // [beams]
    let sequences: UnsafeMutablePointer<Int32>       // [2][beams][maxLength] running tokens (start token first)
    let runningScores: UnsafeMutablePointer<Float>   // [beams] sum of log-probabilities
    let stepTokens: UnsafeMutablePointer<Int32>      // [beams]
    let stepPositions: UnsafeMutablePointer<Int32>   // [beams]
    let candidateScores: UnsafeMutablePointer<Float> // [K] best first
    let candidateIndices: UnsafeMutablePointer<Int>  // [K] beam · vocab + token
    let candidateHits: UnsafeMutablePointer<UInt8>   // [K] finished (end token or length limit)
    let adjusted: UnsafeMutablePointer<Float>        // [K] score - 1e9 · hit
    let finalScores: UnsafeMutablePointer<Float>     // [K] length-penalised, -1e9 unless just finished
    let chosen: UnsafeMutablePointer<Int>            // [beams] candidates continued
    let finishedTokens: UnsafeMutablePointer<Int32>  // [2][beams][maxLength] without the start token
    let finishedLengths: UnsafeMutablePointer<Int32> // [2][beams]
    let finishedScores: UnsafeMutablePointer<Float>  // [2][beams]
    let finishedFlags: UnsafeMutablePointer<UInt8>   // [2][beams]
    let mergedOrder: UnsafeMutablePointer<Int>       // [beams + K]
    var running = 0                                  // which half of sequences/history is current
    var finished = 0                                 // which half of the finished arrays is current

    init(beams: Int, maxLength: Int, candidates k: Int, config c: EncoderDecoderConfig, backend: ArenaBackend) throws(SpecDecError) {
        self.beams = beams
        self.maxLength = maxLength
        self.candidates = k
        let slots = 1 + beams * (maxLength - 1)
        let d = c.hiddenSize
        let lists = 2 * beams * maxLength
        let bytes = KVCache.footprint(layerCount: c.decoderLayerCount, capacity: slots, width: d)
            + Arena.footprint(Float.self, count: beams * c.vocabSize)
            + 3 * Arena.footprint(Int32.self, count: lists) + 4 * Arena.footprint(Int32.self, count: 2 * beams)
            + 4 * Arena.footprint(Float.self, count: 2 * beams) + 3 * Arena.footprint(Float.self, count: k)
            + Arena.footprint(Int.self, count: k) + Arena.footprint(UInt8.self, count: k)
            + Arena.footprint(Int.self, count: beams) + Arena.footprint(Int.self, count: beams + k)
            + Arena.footprint(UInt8.self, count: 2 * beams)
        arena = try Arena(byteCount: bytes, backend: backend)
        cache = try KVCache(layerCount: c.decoderLayerCount, capacity: slots, width: d, arena: arena)
        logits = try arena.allocate(Float.self, count: beams * c.vocabSize)
        history = try arena.allocate(Int32.self, count: lists)
        historyLengths = try arena.allocate(Int32.self, count: beams)
        sequences = try arena.allocate(Int32.self, count: lists)
        runningScores = try arena.allocate(Float.self, count: beams)
        stepTokens = try arena.allocate(Int32.self, count: beams)
        stepPositions = try arena.allocate(Int32.self, count: beams)
        candidateScores = try arena.allocate(Float.self, count: k)
        candidateIndices = try arena.allocate(Int.self, count: k)
        candidateHits = try arena.allocate(UInt8.self, count: k)
        adjusted = try arena.allocate(Float.self, count: k)
        finalScores = try arena.allocate(Float.self, count: k)
        chosen = try arena.allocate(Int.self, count: beams)
        finishedTokens = try arena.allocate(Int32.self, count: lists)
        finishedLengths = try arena.allocate(Int32.self, count: 2 * beams)
        finishedScores = try arena.allocate(Float.self, count: 2 * beams)
        finishedFlags = try arena.allocate(UInt8.self, count: 2 * beams)
        mergedOrder = try arena.allocate(Int.self, count: beams + k)
    }

    func fits(beams b: Int, maxLength m: Int, candidates k: Int) -> Bool { b <= beams && m <= maxLength && k <= candidates }
}
