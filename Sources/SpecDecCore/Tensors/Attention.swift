/// Scaled dot-product attention of one query head over the cached keys and values.
public enum Attention {
    /// Which cache slots a new token sees: every slot in `cached` (the tokens before this
    /// batch), plus batch tokens j ≤ i (causal) or those `batchMask[i * n + j] != 0` (a
    /// draft tree: a node sees its ancestors).
    public struct Visibility {
        public var cached: Range<Int>
        public var batchStart: Int
        public var batchIndex: Int
        public var batchCount: Int
        public var batchMask: UnsafePointer<UInt8>?

        @inline(__always)
        func sees(batchToken j: Int) -> Bool {
            if let batchMask { return batchMask[batchIndex * batchCount + j] != 0 }
            return j <= batchIndex
        }
    }

    /// out[0..<headDim] = softmax(q·K / sqrt(headDim)) · V over the visible slots.
    /// - keys/values: slot s's head vector is at `keys + s * stride`.
    /// - scores: scratch of at least (cached.count + batchCount) floats.
    public static func attend(
        query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
        headDim: Int, visibility v: Visibility, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(headDim).squareRoot()
        // Scores of the visible slots, in visiting order (cached slots, then batch tokens).
        var count = 0
        var maxScore = -Float.infinity
        for slot in v.cached {
            let s = MatrixMultiply.dot(q, keys + slot * stride, headDim) * scale
            scores[count] = s
            maxScore = max(maxScore, s)
            count += 1
        }
        for j in 0..<v.batchCount where v.sees(batchToken: j) {
            let s = MatrixMultiply.dot(q, keys + (v.batchStart + j) * stride, headDim) * scale
            scores[count] = s
            maxScore = max(maxScore, s)
            count += 1
        }
        var sum: Float = 0
        for i in 0..<count { let e = expf(scores[i] - maxScore); scores[i] = e; sum += e }
        let inverse = 1 / sum
        for d in 0..<headDim { out[d] = 0 }
        var index = 0
        for slot in v.cached {
            accumulate(scores[index] * inverse, values + slot * stride, into: out, headDim)
            index += 1
        }
        for j in 0..<v.batchCount where v.sees(batchToken: j) {
            accumulate(scores[index] * inverse, values + (v.batchStart + j) * stride, into: out, headDim)
            index += 1
        }
    }

    /// out += weight · row
    @inline(__always)
    static func accumulate(_ weight: Float, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ n: Int) {
        var d = 0
        let w = SIMD16<Float>(repeating: weight)
        while d + 16 <= n {
            var o = UnsafeRawPointer(out + d).loadUnaligned(as: SIMD16<Float>.self)
            o.addProduct(w, UnsafeRawPointer(row + d).loadUnaligned(as: SIMD16<Float>.self))
            UnsafeMutableRawPointer(out + d).storeBytes(of: o, as: SIMD16<Float>.self)
            d += 16
        }
        while d < n { out[d] += weight * row[d]; d += 1 }
    }
}

#if canImport(Glibc)
import Glibc
#endif
