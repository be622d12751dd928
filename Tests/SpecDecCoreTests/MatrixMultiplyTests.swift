import SpecDecCore
import Testing

/// The blocked kernels against a plain triple loop, over shapes that hit every path:
/// row counts not divisible by 4, column counts not divisible by 16, and token counts
/// that mix 8-token, 4-token and single-token groups.
@Suite struct MatrixMultiplyTests {
    @Test(arguments: [(1, 1), (5, 17), (13, 64), (37, 100), (64, 31)])
    func matchesNaiveProduct(_ shape: (rows: Int, columns: Int)) {
        var random = RandomGenerator(seed: UInt64(shape.rows * 1000 + shape.columns))
        func value() -> Float { Float(random.nextUnit()) * 2 - 1 }
        let weights = (0..<(shape.rows * shape.columns)).map { _ in value() }
        let bias = (0..<shape.rows).map { _ in value() }
        for tokens in [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17] {
            let x = (0..<(tokens * shape.columns)).map { _ in value() }
            var y = [Float](repeating: .nan, count: tokens * shape.rows)
            weights.withUnsafeBufferPointer { w in
                let matrix = Matrix(pointer: w.baseAddress!, rows: shape.rows, columns: shape.columns)
                y.withUnsafeMutableBufferPointer { out in
                    MatrixMultiply.multiply(matrix, bias: bias, x: x, xStride: shape.columns, tokens: tokens,
                                            y: out.baseAddress!, yStride: shape.rows, rows: 0..<shape.rows)
                }
            }
            var worst: Float = 0
            for t in 0..<tokens {
                for r in 0..<shape.rows {
                    var expected = bias[r]
                    for c in 0..<shape.columns { expected += weights[r * shape.columns + c] * x[t * shape.columns + c] }
                    worst = max(worst, abs(expected - y[t * shape.rows + r]))
                }
            }
            #expect(worst < 1e-4, "rows \(shape.rows) columns \(shape.columns) tokens \(tokens): max error \(worst)")
        }
    }
}
