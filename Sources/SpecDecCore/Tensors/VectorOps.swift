#if canImport(Glibc)
import Glibc
#endif

/// Element-wise and normalisation kernels over fp32 rows. Each works on one row; the
/// callers loop over tokens. Shapes are in the parameter names.
public enum VectorOps {
    /// out = x / sqrt(mean(x²) + eps) * weight  (Llama's RMSNorm, computed in fp32 as HF does).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
                               count: Int, out: UnsafeMutablePointer<Float>) {
        var sum: Float = 0
        for i in 0..<count { sum += x[i] * x[i] }
        let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
        for i in 0..<count { out[i] = weight[i] * (x[i] * scale) }
    }

    /// out = (x - mean) / sqrt(var + eps) * weight + bias  (GPT-2's LayerNorm).
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 epsilon: Float, count: Int, out: UnsafeMutablePointer<Float>) {
        var mean: Float = 0
        for i in 0..<count { mean += x[i] }
        mean /= Float(count)
        var variance: Float = 0
        for i in 0..<count { let d = x[i] - mean; variance += d * d }
        variance /= Float(count)
        let scale = 1 / (variance + epsilon).squareRoot()
        for i in 0..<count { out[i] = (x[i] - mean) * scale * weight[i] + bias[i] }
    }

    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// gate[i] = silu(gate[i]) * up[i]  (SwiGLU).
    public static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// GPT-2's tanh approximation of GELU ("gelu_new").
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c: Float = 0.7978845608028654  // sqrt(2 / pi)
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + tanhf(c * (v + 0.044715 * v * v * v)))
        }
    }

    /// In-place softmax; returns nothing. Subtracts the max for stability.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maxValue = -Float.infinity
        for i in 0..<count where x[i] > maxValue { maxValue = x[i] }
        var sum: Float = 0
        for i in 0..<count { let e = expf(x[i] - maxValue); x[i] = e; sum += e }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// log-softmax of `x[token]`, computed in Double for stable scoring.
    public static func logProbability(_ x: UnsafePointer<Float>, count: Int, token: Int) -> Double {
        var maxValue = -Float.infinity
        for i in 0..<count where x[i] > maxValue { maxValue = x[i] }
        var sum: Double = 0
        for i in 0..<count { sum += Double(expf(x[i] - maxValue)) }
        return Double(x[token] - maxValue) - log(sum)
    }

    /// Index of the largest value (the first on ties, as torch.argmax); NaNs never win,
    /// except a NaN at index 0, which nothing beats.
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        // Two passes, 16 lanes wide: the largest value (a compare, not a branch, per
        // element: greedy decoding runs this over the vocabulary every token), then the
        // first index holding it.
        var lanes = SIMD16<Float>(repeating: x[0])
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes.replace(with: v, where: v .> lanes)
            i += 16
        }
        var bestValue = x[0]
        for lane in 0..<16 where lanes[lane] > bestValue { bestValue = lanes[lane] }
        while i < count { if x[i] > bestValue { bestValue = x[i] }; i += 1 }
        if bestValue.isNaN { return 0 }
        for j in 0..<count where x[j] == bestValue { return j }
        return 0
    }
}
