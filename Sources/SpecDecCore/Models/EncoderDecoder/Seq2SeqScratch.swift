/// Activations of one encoder or decoder pass, sized once for a session and carved from its
/// arena. R = max(source capacity, max batch) rows; d = d_model; F = the larger ffn width.
struct Seq2SeqScratch {
    let rows: Int
    let width: Int                                  // d
    let x: UnsafeMutablePointer<Float>              // [R][d] residual stream (the encoder output after encode)
    let sublayer: UnsafeMutablePointer<Float>       // [R][d] what a sublayer adds to the residual
    let query: UnsafeMutablePointer<Float>          // [R][d]
    let key: UnsafeMutablePointer<Float>            // [R][d] encoder self-attention keys
    let value: UnsafeMutablePointer<Float>          // [R][d]
    let attention: UnsafeMutablePointer<Float>      // [R][d] attention output before out_proj
    let hidden: UnsafeMutablePointer<Float>         // [R][F]
    let scores: UnsafeMutablePointer<Float>         // [threads][heads][scoresPerHead]
    let scoresStride: Int                           // heads · scoresPerHead
    let scoresPerHead: Int
    let segmentStarts: UnsafeMutablePointer<Int32>  // [R] an encoder row's first row of its source
    let segmentLengths: UnsafeMutablePointer<Int32> // [R] and its source's length

    static func sizes(_ c: EncoderDecoderConfig, rows: Int, threads: Int, longestAttention: Int) -> [Int] {
        let d = c.hiddenSize, f = max(c.encoderFeedForwardSize, c.decoderFeedForwardSize)
        let heads = max(c.encoderHeadCount, c.decoderHeadCount)
        return [rows * d, rows * d, rows * d, rows * d, rows * d, rows * d, rows * f, threads * heads * (longestAttention + 1)]
    }

    /// - longestAttention: the most keys one query may see (source capacity, or cache capacity + batch).
    static func footprint(_ c: EncoderDecoderConfig, rows: Int, threads: Int, longestAttention: Int) -> Int {
        sizes(c, rows: rows, threads: threads, longestAttention: longestAttention).reduce(0) { $0 + Arena.footprint(Float.self, count: $1) }
            + 2 * Arena.footprint(Int32.self, count: rows)
    }

    init(_ c: EncoderDecoderConfig, rows: Int, threads: Int, longestAttention: Int, arena: Arena) throws(SpecDecError) {
        let s = Seq2SeqScratch.sizes(c, rows: rows, threads: threads, longestAttention: longestAttention)
        self.rows = rows
        width = c.hiddenSize
        x = try arena.allocate(Float.self, count: s[0])
        sublayer = try arena.allocate(Float.self, count: s[1])
        query = try arena.allocate(Float.self, count: s[2])
        key = try arena.allocate(Float.self, count: s[3])
        value = try arena.allocate(Float.self, count: s[4])
        attention = try arena.allocate(Float.self, count: s[5])
        hidden = try arena.allocate(Float.self, count: s[6])
        scores = try arena.allocate(Float.self, count: s[7])
        scoresPerHead = longestAttention + 1
        scoresStride = max(c.encoderHeadCount, c.decoderHeadCount) * scoresPerHead
        segmentStarts = try arena.allocate(Int32.self, count: rows)
        segmentLengths = try arena.allocate(Int32.self, count: rows)
    }
}
