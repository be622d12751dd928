#if canImport(Glibc)
import Glibc
#endif

extension FeedForwardActivation {
    /// x[i] = act(x[i]) in place, as transformers' ACT2FN computes it in fp32.
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count where x[i] < 0 { x[i] = 0 }
        case .gelu:
            let inverseRoot2: Float = 0.7071067811865476
            for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * inverseRoot2)) }
        case .geluTanh:
            VectorOps.geluTanh(x, count: count)
        case .silu:
            for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-v)) }
        }
    }
}
