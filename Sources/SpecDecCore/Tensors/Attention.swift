import CSpecDecShims
#if canImport(Glibc)
import Glibc
#endif

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

    /// out[0..<headDim] = softmax(q·K / sqrt(headDim)) · V over the visible slots: one head,
    /// computed as `attendEveryHead` computes each of its heads.
    /// - keys/values: slot s's head vector is at `keys + s * stride`.
    /// - scores: scratch of at least (cached.count + batchCount) floats.
    public static func attend(
        query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
        headDim: Int, visibility v: Visibility, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        attendEveryHead(query: q, keys: keys, values: values, stride: stride, headCount: 1, headDim: headDim, visibility: v,
                        scores: scores, scoresPerHead: v.cached.count + v.batchCount, out: out)
    }

    /// Every head of one query token, each head by the same operations in the same order as
    /// if it were alone (`attend`), but each visible slot's key and value rows read once,
    /// front to back, for all heads. In a batched step the caches were
    /// evicted since the last step, and one sequential pass per row is what the hardware
    /// prefetcher follows; per-head passes read a quarter of each row, a row apart.
    /// - keys/values: slot s's row (every head) is at `keys + s * stride`.
    /// - scores: scratch of headCount · scoresPerHead floats, scoresPerHead ≥ the visible slots.
    public static func attendEveryHead(
        query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
        headCount: Int, headDim: Int, visibility v: Visibility, scores: UnsafeMutablePointer<Float>, scoresPerHead: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(headDim).squareRoot(), width = headCount * headDim
        var count = 0
        for slot in v.cached.prefix(prefetchDistance) { prefetchRow(keys + slot * stride, width) }
        for slot in v.cached {
            // Ask for a later key row, and this slot's value row for the second pass, before
            // they are needed: a batch step finds them out of cache.
            if slot + prefetchDistance < v.cached.upperBound { prefetchRow(keys + (slot + prefetchDistance) * stride, width) }
            prefetchRow(values + slot * stride, width)
            scoreEveryHead(q, keys + slot * stride, headCount: headCount, headDim: headDim, scale: scale,
                           into: scores + count, scoresPerHead: scoresPerHead)
            count += 1
        }
        for j in 0..<v.batchCount where v.sees(batchToken: j) {
            scoreEveryHead(q, keys + (v.batchStart + j) * stride, headCount: headCount, headDim: headDim, scale: scale,
                           into: scores + count, scoresPerHead: scoresPerHead)
            count += 1
        }
        for h in 0..<headCount {
            let row = scores + h * scoresPerHead
            var maxScore = -Float.infinity
            for i in 0..<count { maxScore = max(maxScore, row[i]) }
            var sum: Float = 0
            for i in 0..<count { let e = expf(row[i] - maxScore); row[i] = e; sum += e }
            let inverse = 1 / sum
            for i in 0..<count { row[i] *= inverse }
        }
        for d in 0..<width { out[d] = 0 }
        var index = 0
        for slot in v.cached {
            accumulateEveryHead(scores + index, scoresPerHead: scoresPerHead, values + slot * stride, into: out,
                                headCount: headCount, headDim: headDim)
            index += 1
        }
        for j in 0..<v.batchCount where v.sees(batchToken: j) {
            accumulateEveryHead(scores + index, scoresPerHead: scoresPerHead, values + (v.batchStart + j) * stride, into: out,
                                headCount: headCount, headDim: headDim)
            index += 1
        }
    }

    /// How many key rows ahead `attendEveryHead` asks for.
    static let prefetchDistance = 4

    @inline(__always)
    static func prefetchRow(_ row: UnsafePointer<Float>, _ count: Int) {
        var i = 0
        while i < count { specdec_prefetch(row + i); i += 16 }  // one 64-byte line each
    }

    @inline(__always)
    static func scoreEveryHead(_ q: UnsafePointer<Float>, _ key: UnsafePointer<Float>, headCount: Int, headDim: Int, scale: Float,
                               into scores: UnsafeMutablePointer<Float>, scoresPerHead: Int) {
        for h in 0..<headCount {
            scores[h * scoresPerHead] = MatrixMultiply.dot(q + h * headDim, key + h * headDim, headDim) * scale
        }
    }

    @inline(__always)
    static func accumulateEveryHead(_ weights: UnsafePointer<Float>, scoresPerHead: Int, _ row: UnsafePointer<Float>,
                                    into out: UnsafeMutablePointer<Float>, headCount: Int, headDim: Int) {
        for h in 0..<headCount {
            accumulate(weights[h * scoresPerHead], row + h * headDim, into: out + h * headDim, headDim)
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
