/// y[t][r] = W[r] · x[t] (+ bias[r]) for a block of W's rows: the kernel behind every
/// projection. At batch 1 it is a GEMV bound by memory bandwidth; scoring k tokens at
/// once reuses each 4-row block of W (kept in L1) across the tokens in groups of four,
/// which is why verifying k drafts costs far less than k single steps.
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
        var r = rows.lowerBound
        while r + 4 <= rows.upperBound {
            var t = 0
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

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vector()
        var i = 0
        while i + 16 <= n {
            acc.addProduct(load(a + i), load(b + i))
            i += 16
        }
        var sum = acc.sum()
        while i < n { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    @inline(__always)
    static func block4x1(_ w: Matrix, row: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let n = w.columns
        let w0 = w[row], w1 = w[row + 1], w2 = w[row + 2], w3 = w[row + 3]
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        var i = 0
        while i + 16 <= n {
            let xv = load(x + i)
            a0.addProduct(load(w0 + i), xv)
            a1.addProduct(load(w1 + i), xv)
            a2.addProduct(load(w2 + i), xv)
            a3.addProduct(load(w3 + i), xv)
            i += 16
        }
        var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
        while i < n {
            let xv = x[i]
            s0 += w0[i] * xv; s1 += w1[i] * xv; s2 += w2[i] * xv; s3 += w3[i] * xv
            i += 1
        }
        y[row] = s0; y[row + 1] = s1; y[row + 2] = s2; y[row + 3] = s3
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
        var i = 0
        while i + 16 <= n {
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
        var s = (a00.sum(), a01.sum(), a02.sum(), a03.sum(),
                 a10.sum(), a11.sum(), a12.sum(), a13.sum(),
                 a20.sum(), a21.sum(), a22.sum(), a23.sum(),
                 a30.sum(), a31.sum(), a32.sum(), a33.sum())
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
