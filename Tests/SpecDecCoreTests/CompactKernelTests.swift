import CSpecDecKernels
@testable import SpecDecCore
import Testing

/// Every packed-weight kernel path this CPU can run against a plain double-precision
/// product, on shapes that are not multiples of the 16-row block, the 32/64-column chunk
/// or the token groups (1..64 positions). Bounds per layout:
///   fp32 panels, f16/bf16 weights with fp32 activations: |err| <= 1e-5 · Σ|w·x|.
///   bf16 activations: each x is rounded to bf16 (relative error <= 2^-9), so
///     |err| <= 2^-8 · Σ|w·x| + 1e-5 · Σ|w·x|.
///   int8: |err| <= Σ (|x|·s_w/2 + |w|·s_x/2 + s_w·s_x/4) + 1e-5 · Σ|w·x| with the per-row
///     scales s = max|·|/127; and the int32 sums make every path give the same bits.
@Suite struct CompactKernelTests {
    static let shapes: [(rows: Int, columns: Int)] = [(1, 1), (17, 7), (45, 100), (33, 64), (16, 129), (70, 96)]
    static let tokenCounts = [1, 2, 3, 7, 8, 9, 13, 16, 17, 33, 64]
    static let layouts: [LinearWeight.Layout] = [.f32Panels, .f16Pairs, .bf16Pairs, .bf16, .int8]
    static var paths: [KernelPath] { KernelPath.supported }

    /// Random weights already representable in the layout's 16-bit type, so the reference
    /// sees exactly the weights the kernel multiplies.
    static func weights(_ count: Int, layout: LinearWeight.Layout, random: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in
            let v = Float(random.nextUnit()) * 2 - 1
            switch layout {
            case .f16Pairs: return Float(Float16(v))
            case .bf16Pairs, .bf16: return Float(bitPattern: v.bitPattern & 0xffff_0000)
            default: return v
            }
        }
    }

    /// Packs `w` (rows × columns, fp32) for `layout` on `path`; the buffer is the caller's.
    static func pack(_ w: [Float], rows: Int, columns: Int, layout: LinearWeight.Layout, path: KernelPath)
        -> (LinearWeight, UnsafeMutableRawPointer) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: LinearWeight.packedBytes(rows: rows, columns: columns, layout: layout),
                                                      alignment: 64)
        let weight = w.withUnsafeBytes { source in
            LinearWeight.pack(source.baseAddress!, sourceType: SPECDEC_SOURCE_F32, transposed: false, rows: rows, columns: columns,
                              layout: layout, path: path, into: buffer)
        }
        return (weight, buffer)
    }

    /// y for `tokens` rows of x, computed in two row chunks (as the thread pool splits it).
    static func run(_ weight: LinearWeight, bias: [Float], x: [Float], tokens: Int, scratch: ActivationScratch) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * weight.rows)
        let prepared = MatrixMultiply.prepare(weight, x: x, xStride: weight.columns, tokens: tokens, scratch: scratch)
        let split = min(weight.rows, 16)
        y.withUnsafeMutableBufferPointer { out in
            MatrixMultiply.multiplyPrepared(weight, bias: bias, prepared, y: out.baseAddress!, yStride: weight.rows, rows: 0..<split)
            MatrixMultiply.multiplyPrepared(weight, bias: bias, prepared, y: out.baseAddress!, yStride: weight.rows,
                                            rows: split..<weight.rows)
        }
        return y
    }

    @Test(arguments: layouts)
    func everyPathMatchesTheNaiveProduct(_ layout: LinearWeight.Layout) {
        let scratch = ActivationScratch()
        for shape in Self.shapes {
            var random = RandomGenerator(seed: UInt64(shape.rows * 7919 + shape.columns))
            let w = Self.weights(shape.rows * shape.columns, layout: layout, random: &random)
            let bias = (0..<shape.rows).map { _ in Float(random.nextUnit()) - 0.5 }
            for tokens in Self.tokenCounts {
                let x = (0..<(tokens * shape.columns)).map { _ in Float(random.nextUnit()) * 4 - 2 }
                var portableInt8: [Float]?
                for path in Self.paths {
                    let (weight, buffer) = Self.pack(w, rows: shape.rows, columns: shape.columns, layout: layout, path: path)
                    defer { buffer.deallocate() }
                    let y = Self.run(weight, bias: bias, x: x, tokens: tokens, scratch: scratch)
                    var failures = 0
                    for t in 0..<tokens {
                        let xr = Array(x[(t * shape.columns)..<((t + 1) * shape.columns)])
                        let sx = Double(xr.map { abs($0) }.max() ?? 0) / 127
                        for r in 0..<shape.rows {
                            let wr = Array(w[(r * shape.columns)..<((r + 1) * shape.columns)])
                            let sw = Double(wr.map { abs($0) }.max() ?? 0) / 127
                            var exact = Double(bias[r]), magnitude = 0.0, quantisation = 0.0
                            for c in 0..<shape.columns {
                                exact += Double(wr[c]) * Double(xr[c])
                                magnitude += abs(Double(wr[c]) * Double(xr[c]))
                                quantisation += abs(Double(xr[c])) * sw / 2 + abs(Double(wr[c])) * sx / 2 + sw * sx / 4
                            }
                            let bound: Double
                            switch layout {
                            case .bf16: bound = (1.0 / 256 + 1e-5) * magnitude + 1e-6
                            case .int8: bound = quantisation + 1e-5 * magnitude + 1e-6
                            default: bound = 1e-5 * magnitude + 1e-6
                            }
                            if !(abs(Double(y[t * shape.rows + r]) - exact) <= bound) { failures += 1 }
                        }
                    }
                    #expect(failures == 0, "\(layout) on \(path): \(failures) results out of bounds for \(shape.rows)x\(shape.columns), \(tokens) tokens")
                    if layout == .int8 {
                        if let reference = portableInt8 {
                            #expect(y == reference, "int8 on \(path) differs from the portable path (\(shape), \(tokens) tokens)")
                        } else {
                            portableInt8 = y
                        }
                    }
                }
            }
        }
    }

    /// A row's result does not depend on how many positions share the pass: position 0
    /// alone and inside 2...64 positions gives the same bits on every path (what lets a
    /// batched or speculative pass reproduce one-sequence decoding exactly).
    @Test(arguments: [LinearWeight.Layout.f32Panels, .f16Pairs, .bf16Pairs])
    func aPositionsResultIsIndependentOfThePassSize(_ layout: LinearWeight.Layout) {
        let scratch = ActivationScratch()
        let (rows, columns) = (70, 129)
        var random = RandomGenerator(seed: 5)
        let w = Self.weights(rows * columns, layout: layout, random: &random)
        let bias = (0..<rows).map { _ in Float(random.nextUnit()) }
        let x = (0..<(64 * columns)).map { _ in Float(random.nextUnit()) * 4 - 2 }
        for path in Self.paths {
            let (weight, buffer) = Self.pack(w, rows: rows, columns: columns, layout: layout, path: path)
            defer { buffer.deallocate() }
            let alone = Self.run(weight, bias: bias, x: Array(x[0..<columns]), tokens: 1, scratch: scratch)
            for tokens in [2, 3, 8, 9, 17, 64] {
                let y = Self.run(weight, bias: bias, x: Array(x[0..<(tokens * columns)]), tokens: tokens, scratch: scratch)
                #expect(Array(y[0..<rows]) == alone, "\(layout) on \(path), \(tokens) positions")
            }
        }
    }

    /// The largest int8 products do not saturate: every weight and activation code ±127
    /// (each row at its own magnitude), with signs that make neighbouring products agree,
    /// cancel, or mix, sum to exactly ±127² per column on every path (AVX2 adds products in
    /// 16-bit pairs before widening them).
    @Test func extremeInt8CodesSumExactly() {
        let scratch = ActivationScratch()
        let (rows, columns, tokens) = (32, 256, 6)
        // Row r's signs repeat with period r % 4 + 1; position t's with period t % 3 + 1.
        func sign(_ i: Int, period: Int) -> Float { (i / period) % 2 == 0 ? 1 : -1 }
        let w = (0..<(rows * columns)).map { i in sign(i % columns, period: (i / columns) % 4 + 1) * Float(1 + i / columns) }
        let x = (0..<(tokens * columns)).map { i in sign(i % columns, period: (i / columns) % 3 + 1) * 0.5 * Float(1 + i / columns) }
        let bias = [Float](repeating: 0, count: rows)
        var portable: [Float]?
        for path in Self.paths {
            let (weight, buffer) = Self.pack(w, rows: rows, columns: columns, layout: .int8, path: path)
            defer { buffer.deallocate() }
            let y = Self.run(weight, bias: bias, x: x, tokens: tokens, scratch: scratch)
            if let portable { #expect(y == portable, "int8 on \(path) differs from the portable path") } else { portable = y }
            for t in 0..<tokens {
                for r in 0..<rows {
                    var codes = 0
                    for c in 0..<columns { codes += Int(w[r * columns + c].sign == x[t * columns + c].sign ? 1 : -1) * 127 * 127 }
                    let exact = Double(codes) * (Double(1 + r) / 127) * (0.5 * Double(1 + t) / 127)
                    #expect(abs(Double(y[t * rows + r]) - exact) <= 1e-6 * abs(exact), "int8 on \(path): row \(r), position \(t)")
                }
            }
        }
    }

    @Test func forcingAPathTheCPULacksIsAStatus() throws {
        for path in KernelPath.allCases where !KernelPath.supported.contains(path) && path != .auto {
            #expect(throws: SpecDecError.self) { try KernelPath.resolve(path) }
            let reason = KernelPath.unsupportedReason(path) ?? ""
            #expect(reason.contains(path.description))
        }
        #expect(try KernelPath.resolve(.portable) == .portable)
        #expect(KernelPath.supported.first == .portable)
    }

    /// specdec_prepare_int8 (vectorised where the CPU has AVX2 or AVX-512) quantises each row exactly
    /// as its definition says: scale max|x| / 127 (NaNs ignored), codes round-to-nearest-even
    /// of x · 127 / max|x| clamped to ±127, NaN to 0; rows of every length around the
    /// 16-lane chunks, with ties, NaN, ±Inf, zeros and -0.
    @Test func int8ActivationCodesFollowTheirDefinition() {
        var random = RandomGenerator(seed: 11)
        for columns in [1, 5, 15, 16, 17, 31, 32, 33, 64, 100, 257] {
            for kind in 0..<6 {
                var row = (0..<columns).map { _ in Float(random.nextUnit()) * 8 - 4 }
                switch kind {
                case 1: row = row.map { ($0 * 2).rounded() / 2 }  // many exact .5 products with a max of 4
                case 2: row[columns / 2] = .nan
                case 3: row[0] = .infinity
                case 4: row = row.map { _ in 0 }; row[columns - 1] = -0.0
                case 5: row[columns - 1] = -.infinity; if columns > 1 { row[0] = .nan }
                default: break
                }
                var amax: Float = 0
                for v in row where abs(v) > amax { amax = abs(v) }
                let inverse: Float = amax > 0 ? 127 / amax : 0
                let expected: [Int8] = row.map { v in
                    var q = (v * inverse).rounded(.toNearestOrEven)
                    if q.isNaN { q = 0 }
                    return Int8(min(127, max(-127, q)))
                }
                let kp = (columns + 63) / 64 * 64
                var codes = [Int8](repeating: 99, count: kp)
                var scale: Float = 0
                specdec_prepare_int8(row, Int64(columns), 1, 1, Int64(columns), Int64(kp), 0, &codes, &scale)
                #expect(Array(codes[0..<columns]) == expected, "columns \(columns), kind \(kind)")
                #expect(codes[columns...].allSatisfy { $0 == 0 })
                #expect(scale.bitPattern == (amax > 0 ? amax / 127 : 1).bitPattern)
            }
        }
    }
}
