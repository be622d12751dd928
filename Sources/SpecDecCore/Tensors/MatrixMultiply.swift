import CSpecDecShims

/// y[t][r] = W[r] · x[t] (+ bias[r]) for a block of W's rows: the kernel behind every
/// projection. At batch 1 it is a GEMV bound by memory bandwidth; scoring k tokens at
/// once streams W a single time: groups of eight tokens go through a 2-row × 8-token
/// kernel whose multiply-adds keep pace with the memory stream, the rest through 4-row
/// blocks (kept in L1) shared by four tokens at a time. That is why verifying k drafts
/// costs far less than k single steps.
public enum MatrixMultiply {
    public typealias Vector = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    /// Multiplies rows `rows` of `w` with `tokens` input vectors.
    /// - x: `tokens` vectors of `w.columns` floats, `xStride` apart.
    /// - y: output, `tokens` rows `yStride` apart; column r receives row r's result.
    public static func multiply(
        _ w: Matrix, bias: UnsafePointer<Float>?,
        x: UnsafePointer<Float>, xStride: Int, tokens: Int,
        y: UnsafeMutablePointer<Float>, yStride: Int, rows: Range<Int>
    ) {
        // Many tokens (a batch of sequences, a long prompt): the rows of x a sweep reuses
        // must stay in L1, or every W block re-reads them from L2. Sweep W once per chunk
        // of tokens that fits; each (row, token) sum is the same whatever the chunking.
        let chunk = max(8, (l1Budget / (4 * max(1, w.columns))) / 8 * 8)
        if tokens > chunk {
            let block = max(16, (l2Budget / (4 * max(1, w.columns))) / 4 * 4)
            var first = rows.lowerBound
            while first < rows.upperBound {
                let last = min(rows.upperBound, first + block)
                var start = 0
                while start < tokens {
                    let n = min(chunk, tokens - start)
                    multiply(w, bias: bias, x: x + start * xStride, xStride: xStride, tokens: n,
                             y: y + start * yStride, yStride: yStride, rows: first..<last)
                    start += n
                }
                first = last
            }
            return
        }
        // One sweep over W in 4-row blocks; every token group reuses the block while it
        // is in L1, so W streams from memory once whatever the token count.
        let wideGroups = tokens / 8
        var r = rows.lowerBound
        while r + 4 <= rows.upperBound {
            for g in 0..<wideGroups {
                let xg = x + 8 * g * xStride, yg = y + 8 * g * yStride
                block2x8(w, row: r, x: xg, xStride: xStride, y: yg, yStride: yStride)
                block2x8(w, row: r + 2, x: xg, xStride: xStride, y: yg, yStride: yStride)
            }
            var t = 8 * wideGroups
            while t + 4 <= tokens {
                block4x4(w, row: r, x: x + t * xStride, xStride: xStride, y: y + t * yStride, yStride: yStride)
                t += 4
            }
            while t < tokens {
                block4x1(w, row: r, x: x + t * xStride, y: y + t * yStride)
                t += 1
            }
            r += 4
        }
        while r < rows.upperBound {
            for t in 0..<tokens { y[t * yStride + r] = dot(w[r], x + t * xStride, w.columns) }
            r += 1
        }
        if let bias {
            for t in 0..<tokens {
                let out = y + t * yStride
                for r in rows { out[r] += bias[r] }
            }
        }
    }

    /// Bytes of activations one sweep over W keeps in L1 (of 32-48 KiB on current cores).
    static let l1Budget = 24 * 1024
    /// Bytes of W a block keeps in L2 while the token chunks sweep it.
    static let l2Budget = 256 * 1024

    /// Sum of the 16 lanes by halving (Swift's generic `sum()` is not inlined here and
    /// showed up at ~10% of multi-token kernel time). Every kernel reduces in this same
    /// order, so batched and single-token results stay bitwise equal.
    @inline(__always)
    static func horizontalSum(_ v: Vector) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vector()
        var i = 0
        while i + 16 <= n {
            acc.addProduct(load(a + i), load(b + i))
            i += 16
        }
        var sum = horizontalSum(acc)
        while i < n { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    @inline(__always)
    static func block4x1(_ w: Matrix, row: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let n = w.columns
        let w0 = w[row], w1 = w[row + 1], w2 = w[row + 2], w3 = w[row + 3]
        let ahead = row + 8 < w.rows ? w[row + 8] : w[row]
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        var i = 0
        while i + 16 <= n {
            specdec_prefetch(ahead + i)
            specdec_prefetch(ahead + n + i)
            specdec_prefetch(ahead + 2 * n + i)
            specdec_prefetch(ahead + 3 * n + i)
            let xv = load(x + i)
            a0.addProduct(load(w0 + i), xv)
            a1.addProduct(load(w1 + i), xv)
            a2.addProduct(load(w2 + i), xv)
            a3.addProduct(load(w3 + i), xv)
            i += 16
        }
        var s0 = horizontalSum(a0), s1 = horizontalSum(a1), s2 = horizontalSum(a2), s3 = horizontalSum(a3)
        while i < n {
            let xv = x[i]
            s0 += w0[i] * xv; s1 += w1[i] * xv; s2 += w2[i] * xv; s3 += w3[i] * xv
            i += 1
        }
        y[row] = s0; y[row + 1] = s1; y[row + 2] = s2; y[row + 3] = s3
    }

    /// Two rows of W against eight tokens: 16 multiply-adds per 10 loads, with W read once.
    @inline(__always)
    static func block2x8(_ w: Matrix, row: Int, x: UnsafePointer<Float>, xStride: Int, y: UnsafeMutablePointer<Float>, yStride: Int) {
        let n = w.columns
        let w0 = w[row], w1 = w[row + 1]
        let next = row + 2 < w.rows ? w[row + 2] : w[row]
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector(), a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
        var b0 = Vector(), b1 = Vector(), b2 = Vector(), b3 = Vector(), b4 = Vector(), b5 = Vector(), b6 = Vector(), b7 = Vector()
        var i = 0
        while i + 16 <= n {
            specdec_prefetch(next + i)
            specdec_prefetch(next + n + i)
            let r0 = load(w0 + i), r1 = load(w1 + i)
            var v = load(x + i)
            a0.addProduct(r0, v); b0.addProduct(r1, v)
            v = load(x + xStride + i); a1.addProduct(r0, v); b1.addProduct(r1, v)
            v = load(x + 2 * xStride + i); a2.addProduct(r0, v); b2.addProduct(r1, v)
            v = load(x + 3 * xStride + i); a3.addProduct(r0, v); b3.addProduct(r1, v)
            v = load(x + 4 * xStride + i); a4.addProduct(r0, v); b4.addProduct(r1, v)
            v = load(x + 5 * xStride + i); a5.addProduct(r0, v); b5.addProduct(r1, v)
            v = load(x + 6 * xStride + i); a6.addProduct(r0, v); b6.addProduct(r1, v)
            v = load(x + 7 * xStride + i); a7.addProduct(r0, v); b7.addProduct(r1, v)
            i += 16
        }
        var s0 = (horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3), horizontalSum(a4), horizontalSum(a5), horizontalSum(a6), horizontalSum(a7))
        var s1 = (horizontalSum(b0), horizontalSum(b1), horizontalSum(b2), horizontalSum(b3), horizontalSum(b4), horizontalSum(b5), horizontalSum(b6), horizontalSum(b7))
        while i < n {
            let p = w0[i], q = w1[i]
            let x0 = x[i], x1 = x[xStride + i], x2 = x[2 * xStride + i], x3 = x[3 * xStride + i]
            let x4 = x[4 * xStride + i], x5 = x[5 * xStride + i], x6 = x[6 * xStride + i], x7 = x[7 * xStride + i]
            s0.0 += p * x0; s0.1 += p * x1; s0.2 += p * x2; s0.3 += p * x3
            s0.4 += p * x4; s0.5 += p * x5; s0.6 += p * x6; s0.7 += p * x7
            s1.0 += q * x0; s1.1 += q * x1; s1.2 += q * x2; s1.3 += q * x3
            s1.4 += q * x4; s1.5 += q * x5; s1.6 += q * x6; s1.7 += q * x7
            i += 1
        }
        y[row] = s0.0; y[yStride + row] = s0.1; y[2 * yStride + row] = s0.2; y[3 * yStride + row] = s0.3
        y[4 * yStride + row] = s0.4; y[5 * yStride + row] = s0.5; y[6 * yStride + row] = s0.6; y[7 * yStride + row] = s0.7
        let r1 = row + 1
        y[r1] = s1.0; y[yStride + r1] = s1.1; y[2 * yStride + r1] = s1.2; y[3 * yStride + r1] = s1.3
        y[4 * yStride + r1] = s1.4; y[5 * yStride + r1] = s1.5; y[6 * yStride + r1] = s1.6; y[7 * yStride + r1] = s1.7
    }

    @inline(__always)
    static func block4x4(_ w: Matrix, row: Int, x: UnsafePointer<Float>, xStride: Int, y: UnsafeMutablePointer<Float>, yStride: Int) {
        let n = w.columns
        let w0 = w[row], w1 = w[row + 1], w2 = w[row + 2], w3 = w[row + 3]
        let x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride
        var a00 = Vector(), a01 = Vector(), a02 = Vector(), a03 = Vector()
        var a10 = Vector(), a11 = Vector(), a12 = Vector(), a13 = Vector()
        var a20 = Vector(), a21 = Vector(), a22 = Vector(), a23 = Vector()
        var a30 = Vector(), a31 = Vector(), a32 = Vector(), a33 = Vector()
        // The 16 multiply-adds per step outrun the hardware prefetcher, so the next block's
        // rows are requested explicitly, one cache line per row per step.
        let next = row + 4 < w.rows ? w[row + 4] : w[row]
        var i = 0
        while i + 16 <= n {
            specdec_prefetch(next + i)
            specdec_prefetch(next + n + i)
            specdec_prefetch(next + 2 * n + i)
            specdec_prefetch(next + 3 * n + i)
            let v0 = load(x0 + i), v1 = load(x1 + i), v2 = load(x2 + i), v3 = load(x3 + i)
            let r0 = load(w0 + i)
            a00.addProduct(r0, v0); a01.addProduct(r0, v1); a02.addProduct(r0, v2); a03.addProduct(r0, v3)
            let r1 = load(w1 + i)
            a10.addProduct(r1, v0); a11.addProduct(r1, v1); a12.addProduct(r1, v2); a13.addProduct(r1, v3)
            let r2 = load(w2 + i)
            a20.addProduct(r2, v0); a21.addProduct(r2, v1); a22.addProduct(r2, v2); a23.addProduct(r2, v3)
            let r3 = load(w3 + i)
            a30.addProduct(r3, v0); a31.addProduct(r3, v1); a32.addProduct(r3, v2); a33.addProduct(r3, v3)
            i += 16
        }
        var s = (horizontalSum(a00), horizontalSum(a01), horizontalSum(a02), horizontalSum(a03),
                 horizontalSum(a10), horizontalSum(a11), horizontalSum(a12), horizontalSum(a13),
                 horizontalSum(a20), horizontalSum(a21), horizontalSum(a22), horizontalSum(a23),
                 horizontalSum(a30), horizontalSum(a31), horizontalSum(a32), horizontalSum(a33))
        while i < n {
            let v0 = x0[i], v1 = x1[i], v2 = x2[i], v3 = x3[i]
            s.0 += w0[i] * v0; s.1 += w0[i] * v1; s.2 += w0[i] * v2; s.3 += w0[i] * v3
            s.4 += w1[i] * v0; s.5 += w1[i] * v1; s.6 += w1[i] * v2; s.7 += w1[i] * v3
            s.8 += w2[i] * v0; s.9 += w2[i] * v1; s.10 += w2[i] * v2; s.11 += w2[i] * v3
            s.12 += w3[i] * v0; s.13 += w3[i] * v1; s.14 += w3[i] * v2; s.15 += w3[i] * v3
            i += 1
        }
        let y0 = y, y1 = y + yStride, y2 = y + 2 * yStride, y3 = y + 3 * yStride
        y0[row] = s.0; y1[row] = s.1; y2[row] = s.2; y3[row] = s.3
        y0[row + 1] = s.4; y1[row + 1] = s.5; y2[row + 1] = s.6; y3[row + 1] = s.7
        y0[row + 2] = s.8; y1[row + 2] = s.9; y2[row + 2] = s.10; y3[row + 2] = s.11
        y0[row + 3] = s.12; y1[row + 3] = s.13; y2[row + 3] = s.14; y3[row + 3] = s.15
    }
}
