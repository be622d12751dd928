import CSpecDecKernels

/// Times one compact-weight kernel on random weights: what `specdec kernels` reports as
/// each path's peak (weights that stay in cache) and streaming rate (weights that do not).
public enum KernelBenchmark {
    public struct Result: Sendable {
        /// Median seconds of one prepare + multiply over `tokens` positions.
        public var seconds: Double
        public var flops: Double        // 2 · rows · columns · tokens
        public var weightBytes: Int
        public var gflops: Double { flops / seconds / 1e9 }
        public var gigabytesPerSecond: Double { Double(weightBytes) / seconds / 1e9 }
    }

    /// - layout: a packed layout, whose `path` must be supported; or `.f32`, the fp32
    ///   weights' SIMD kernel (compiled for the build's target, whatever `path` says).
    public static func measure(layout: LinearWeight.Layout, path: KernelPath, rows: Int, columns: Int, tokens: Int,
                               minimumSeconds: Double = 0.2) -> Result {
        var random = RandomGenerator(seed: 7)
        let source = (0..<(rows * columns)).map { _ in Float(random.nextUnit()) - 0.5 }
        let x = (0..<(tokens * columns)).map { _ in Float(random.nextUnit()) - 0.5 }
        let bytes = layout == .f32 ? rows * columns * 4 : LinearWeight.packedBytes(rows: rows, columns: columns, layout: layout)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        let weight: LinearWeight
        if layout == .f32 {
            let floats = buffer.bindMemory(to: Float.self, capacity: rows * columns)
            floats.initialize(from: source, count: rows * columns)
            weight = LinearWeight(matrix: Matrix(pointer: floats, rows: rows, columns: columns))
        } else {
            weight = source.withUnsafeBytes { s in
                LinearWeight.pack(s.baseAddress!, sourceType: SPECDEC_SOURCE_F32, transposed: false, rows: rows, columns: columns,
                                  layout: layout, path: path, into: buffer)
            }
        }
        let scratch = ActivationScratch()
        var y = [Float](repeating: 0, count: tokens * rows)
        var samples: [Double] = []
        var total = 0.0
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                func once() -> Double {
                    let start = Clock.now()
                    MatrixMultiply.multiply(weight, bias: nil, x: xb.baseAddress!, xStride: columns, tokens: tokens,
                                            y: yb.baseAddress!, yStride: rows, rows: 0..<rows, scratch: scratch)
                    return Clock.now() - start
                }
                _ = once()
                while total < minimumSeconds || samples.count < 5 {
                    let t = once()
                    samples.append(t)
                    total += t
                }
            }
        }
        samples.sort()
        return Result(seconds: samples[samples.count / 2], flops: 2 * Double(rows * columns * tokens), weightBytes: weight.streamedBytes)
    }
}
