import CSpecDecKernels

/// Projections with compact weights: the input is converted once per pass into the form
/// the chosen kernel reads (`prepare`), then row blocks of W are multiplied, possibly on
/// several threads, by the C kernel of the weight's path (`multiplyPrepared`).
extension MatrixMultiply {
    /// A projection input converted for one weight layout and path.
    public struct PreparedActivations {
        let data: UnsafeRawPointer
        let scales: UnsafePointer<Float>?
        let tokens: Int
    }

    /// True when the AMX kernels take this pass. bf16 uses tiles for every position count,
    /// so one-position steps and multi-position verification sum in the same order; int8
    /// sums are exact, so one-position int8 passes take the VNNI kernel.
    @inline(__always)
    static func usesTiles(_ w: LinearWeight, tokens: Int) -> Bool { w.path == .amx && (w.layout == .bf16 || tokens > 1) }

    /// Converts `tokens` rows of x (`w.columns` floats, `xStride` apart) into `scratch`.
    public static func prepare(_ w: LinearWeight, x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                               scratch: ActivationScratch) -> PreparedActivations {
        let kp = w.paddedColumns, columns = w.columns
        let paddedTokens = usesTiles(w, tokens: tokens) ? (tokens + 15) / 16 * 16 : tokens
        switch w.layout {
        case .f32, .f32Panels, .f16Pairs, .bf16Pairs:
            let out = scratch.reserve(tokens * kp * 4).assumingMemoryBound(to: Float.self)
            specdec_prepare_f32(x, Int64(xStride), Int64(tokens), Int64(columns), Int64(kp), 0, out)
            return PreparedActivations(data: UnsafeRawPointer(out), scales: nil, tokens: tokens)
        case .bf16:
            if w.path == .avx512BF16 || w.path == .amx {
                let out = scratch.reserve(paddedTokens * kp * 2).assumingMemoryBound(to: UInt16.self)
                specdec_prepare_bf16(x, Int64(xStride), Int64(tokens), Int64(paddedTokens), Int64(columns), Int64(kp), out)
                return PreparedActivations(data: UnsafeRawPointer(out), scales: nil, tokens: tokens)
            }
            // Paths without bf16 dot products compute in fp32 from bf16-rounded inputs.
            let out = scratch.reserve(tokens * kp * 4).assumingMemoryBound(to: Float.self)
            specdec_prepare_f32(x, Int64(xStride), Int64(tokens), Int64(columns), Int64(kp), 1, out)
            return PreparedActivations(data: UnsafeRawPointer(out), scales: nil, tokens: tokens)
        case .int8:
            let dataBytes = (paddedTokens * kp + 63) / 64 * 64
            let base = scratch.reserve(dataBytes + paddedTokens * 4)
            let codes = base.assumingMemoryBound(to: Int8.self)
            let scales = (base + dataBytes).assumingMemoryBound(to: Float.self)
            // The VNNI kernel multiplies unsigned activations: they come offset by 128.
            let offset: Int32 = (w.path == .avx512BF16 || w.path == .amx) && !usesTiles(w, tokens: tokens) ? 1 : 0
            specdec_prepare_int8(x, Int64(xStride), Int64(tokens), Int64(paddedTokens), Int64(columns), Int64(kp), offset, codes, scales)
            return PreparedActivations(data: UnsafeRawPointer(codes), scales: UnsafePointer(scales), tokens: tokens)
        }
    }

    /// y[t][r] = W[r] · x[t] (+ bias[r]) for r in `rows`, which starts on a 16-row block.
    public static func multiplyPrepared(_ w: LinearWeight, bias: UnsafePointer<Float>?, _ a: PreparedActivations,
                                        y: UnsafeMutablePointer<Float>, yStride: Int, rows: Range<Int>) {
        guard !rows.isEmpty, let panels = w.panels else { return }
        assert(rows.lowerBound % 16 == 0, "compact-weight row chunks start on a 16-row block")
        let begin = Int64(rows.lowerBound / 16), end = Int64((rows.upperBound + 15) / 16)
        let kp = Int64(w.paddedColumns), t = Int64(a.tokens), ys = Int64(yStride), n = Int64(min(rows.upperBound, w.rows))
        switch w.layout {
        case .f32:
            return
        case .f32Panels:
            let p = panels.assumingMemoryBound(to: Float.self), x = a.data.assumingMemoryBound(to: Float.self)
            switch w.path {
            case .portable: specdec_mm_f32_portable(p, kp, begin, end, x, t, y, ys, n, bias)
            case .avx2: specdec_mm_f32_avx2(p, kp, begin, end, x, t, y, ys, n, bias)
            default: specdec_mm_f32_avx512(p, kp, begin, end, x, t, y, ys, n, bias)
            }
        case .f16Pairs, .bf16Pairs:
            let p = panels.assumingMemoryBound(to: UInt16.self), x = a.data.assumingMemoryBound(to: Float.self)
            let f16 = w.layout == .f16Pairs
            switch w.path {
            case .portable: f16 ? specdec_mm_f16w_portable(p, kp, begin, end, x, t, y, ys, n, bias)
                                : specdec_mm_bf16w_portable(p, kp, begin, end, x, t, y, ys, n, bias)
            case .avx2: f16 ? specdec_mm_f16w_avx2(p, kp, begin, end, x, t, y, ys, n, bias)
                            : specdec_mm_bf16w_avx2(p, kp, begin, end, x, t, y, ys, n, bias)
            default: f16 ? specdec_mm_f16w_avx512(p, kp, begin, end, x, t, y, ys, n, bias)
                         : specdec_mm_bf16w_avx512(p, kp, begin, end, x, t, y, ys, n, bias)
            }
        case .bf16:
            let p = panels.assumingMemoryBound(to: UInt16.self)
            switch w.path {
            case .amx:
                specdec_mm_bf16_amx(p, kp, begin, end, a.data.assumingMemoryBound(to: UInt16.self), t, y, ys, n, bias)
            case .avx512BF16:
                specdec_mm_bf16_avx512bf16(p, kp, begin, end, a.data.assumingMemoryBound(to: UInt16.self), t, y, ys, n, bias)
            case .portable: specdec_mm_bf16w_portable(p, kp, begin, end, a.data.assumingMemoryBound(to: Float.self), t, y, ys, n, bias)
            case .avx2: specdec_mm_bf16w_avx2(p, kp, begin, end, a.data.assumingMemoryBound(to: Float.self), t, y, ys, n, bias)
            default: specdec_mm_bf16w_avx512(p, kp, begin, end, a.data.assumingMemoryBound(to: Float.self), t, y, ys, n, bias)
            }
        case .int8:
            let p = panels.assumingMemoryBound(to: Int8.self), x = a.data.assumingMemoryBound(to: Int8.self)
            let ws = w.scales!, sums = w.rowSums!, xs = a.scales!
            switch w.path {
            case .amx where a.tokens > 1: specdec_mm_int8_amx(p, ws, sums, kp, begin, end, x, xs, t, y, ys, n, bias)
            case .amx, .avx512BF16: specdec_mm_int8_avx512vnni(p, ws, sums, kp, begin, end, x, xs, t, y, ys, n, bias)
            case .portable: specdec_mm_int8_portable(p, ws, sums, kp, begin, end, x, xs, t, y, ys, n, bias)
            case .avx2: specdec_mm_int8_avx2(p, ws, sums, kp, begin, end, x, xs, t, y, ys, n, bias)
            default: specdec_mm_int8_avx512(p, ws, sums, kp, begin, end, x, xs, t, y, ys, n, bias)
            }
        }
    }

    /// One projection on the calling thread, whatever the weight's layout.
    public static func multiply(_ w: LinearWeight, bias: UnsafePointer<Float>?, x: UnsafePointer<Float>, xStride: Int,
                                tokens: Int, y: UnsafeMutablePointer<Float>, yStride: Int, rows: Range<Int>,
                                scratch: ActivationScratch) {
        if let matrix = w.matrix {
            multiply(matrix, bias: bias, x: x, xStride: xStride, tokens: tokens, y: y, yStride: yStride, rows: rows)
            return
        }
        let prepared = prepare(w, x: x, xStride: xStride, tokens: tokens, scratch: scratch)
        multiplyPrepared(w, bias: bias, prepared, y: y, yStride: yStride, rows: rows)
    }
}
