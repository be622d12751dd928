import SpecDecCore
import Testing

@Suite struct VectorOpsTests {
    /// argmax is torch.argmax's rule written as the plain loop: the first index whose value
    /// no later one exceeds; NaNs never win, a NaN at index 0 is never beaten.
    static func reference(_ x: [Float]) -> Int {
        var best = 0
        for i in 1..<x.count where x[i] > x[best] { best = i }
        return best
    }

    @Test func argmaxFollowsTheFirstLargestRule() {
        var state: UInt64 = 12_345
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 3, 3, -3]
        for count in [1, 2, 15, 16, 17, 31, 33, 100, 6000] {
            for trial in 0..<40 {
                var x = (0..<count).map { _ in Float(Int(next() % 2001) - 1000) / 8 }
                // Ties, NaNs, infinities and signed zeros at chosen places.
                for _ in 0..<(trial % 6) { x[Int(next() % UInt64(count))] = specials[Int(next() % UInt64(specials.count))] }
                if trial % 7 == 0 { x[0] = .nan }
                if trial % 11 == 0 { x = x.map { _ in specials[Int(next() % UInt64(specials.count))] } }
                let got = x.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress!, count: count) }
                #expect(got == Self.reference(x), "count \(count), trial \(trial)")
            }
        }
    }
}
