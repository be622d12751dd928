#if canImport(Glibc)
import Glibc
#endif

/// Rotary position embedding in the rotate-half layout of Hugging Face checkpoints:
/// dimension i pairs with i + headDim/2. Frequencies are computed in fp32 exactly as
/// transformers does, so logits match at long positions too.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    private let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float) {
        self.headDim = headDim
        inverseFrequencies = (0..<(headDim / 2)).map { i in 1 / powf(theta, Float(2 * i) / Float(headDim)) }
    }

    /// Fills cos/sin tables (headDim/2 each) for one position.
    public func angles(position: Int, cos cosOut: UnsafeMutablePointer<Float>, sin sinOut: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<(headDim / 2) {
            let angle = p * inverseFrequencies[i]
            cosOut[i] = cosf(angle)
            sinOut[i] = sinf(angle)
        }
    }

    /// Rotates `heads` consecutive head vectors in place.
    public func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                v[i] = a * cos[i] - b * sin[i]
                v[i + half] = b * cos[i] + a * sin[i]
            }
        }
    }
}
