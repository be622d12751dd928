#if canImport(Glibc)
import Glibc
#endif

/// Sinusoidal position tables, computed once at load and owned by the model. Row p is the
/// vector added to the embedding of the token at position p (any offset already applied).
enum SinusoidalTable {
    /// Marian (transformers' MarianSinusoidalPositionalEmbedding): sin in the first half, cos in
    /// the second, both of p / 10000^(2j/d), in fp64 rounded to fp32 as numpy → torch does.
    static func marian(rows: Int, dim d: Int, into table: UnsafeMutablePointer<Float>) {
        let half = d / 2
        for j in 0..<half {
            let denominator = pow(10000.0, Double(2 * j) / Double(d))
            for p in 0..<rows {
                let angle = Double(p) / denominator
                table[p * d + j] = Float(sin(angle))
                table[p * d + half + j] = Float(cos(angle))
            }
        }
    }

    /// fairseq (SinusoidalPositionalEmbedding.get_embedding): f_j = exp(-j · ln(10000)/(d/2 - 1)) and
    /// angle = r · f_j in fp32, table row r = [sin ++ cos]; position p reads row p + offset
    /// (offset = padding_idx + 1, as fairseq's make_positions numbers tokens).
    static func fairseq(rows: Int, dim d: Int, offset: Int, into table: UnsafeMutablePointer<Float>) {
        let half = d / 2
        let step = Float(-(log(10000.0) / Double(half - 1)))
        for j in 0..<half {
            let frequency = expf(Float(j) * step)
            for p in 0..<rows {
                let angle = Float(p + offset) * frequency
                table[p * d + j] = Float(sin(Double(angle)))
                table[p * d + half + j] = Float(cos(Double(angle)))
            }
        }
    }
}
