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
        var count = 0
        var maxScore = -Float.infinity
        @inline(__always) func score(_ slot: Int) {
            let s = MatrixMultiply.dot(q, keys + slot * stride, headDim) * scale
            scores[count] = s
            if s > maxScore { maxScore = s }
            count += 1
        }
        for slot in v.cached { score(slot) }
        for j in 0..<v.batchCount where v.sees(batchToken: j) { score(v.batchStart + j) }

        var sum: Float = 0
        for i in 0..<count { let e = expf(scores[i] - maxScore); scores[i] = e; sum += e }
        let inverse = 1 / sum
        for d in 0..<headDim { out[d] = 0 }
        var index = 0
        @inline(__always) func accumulate(_ slot: Int) {
            let weight = scores[index] * inverse
            let row = values + slot * stride
            var d = 0
            while d + 16 <= headDim {
                var o = UnsafeRawPointer(out + d).loadUnaligned(as: SIMD16<Float>.self)
                o.addProduct(SIMD16(repeating: weight), UnsafeRawPointer(row + d).loadUnaligned(as: SIMD16<Float>.self))
                UnsafeMutableRawPointer(out + d).storeBytes(of: o, as: SIMD16<Float>.self)
                d += 16
            }
            while d < headDim { out[d] += weight * row[d]; d += 1 }
            index += 1
        }
        for slot in v.cached { accumulate(slot) }
        for j in 0..<v.batchCount where v.sees(batchToken: j) { accumulate(v.batchStart + j) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
