@testable import SpecDecCore
import Testing

@Suite struct AttentionTests {
    /// attendEveryHead must give each head the very bits `attend` gives it alone: a batched
    /// step runs all heads together, a one-sequence step one head at a time, and their
    /// outputs must not differ.
    @Test(arguments: [(4, 64), (3, 20), (1, 7)])
    func everyHeadMatchesOneHeadAtATime(headCount: Int, headDim: Int) {
        let width = headCount * headDim, stride = width + 8, slots = 19
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 20_001 - 10_000) / 2_500
        }
        let keys = (0..<(slots * stride)).map { _ in next() }
        let values = (0..<(slots * stride)).map { _ in next() }
        let query = (0..<width).map { _ in next() }
        let mask: [UInt8] = [1, 0, 1, 1, 0, 1, 1, 0, 1]  // a 3x3 tree mask: row 1 sees tokens 0 and 2
        let visibilities: [Attention.Visibility] = [
            .init(cached: 0..<slots, batchStart: slots, batchIndex: 0, batchCount: 0, batchMask: nil),
            .init(cached: 0..<12, batchStart: 12, batchIndex: 3, batchCount: 6, batchMask: nil),
            .init(cached: 0..<0, batchStart: 0, batchIndex: 4, batchCount: 7, batchMask: nil),
        ]
        mask.withUnsafeBufferPointer { m in
            let tree = Attention.Visibility(cached: 0..<9, batchStart: 9, batchIndex: 1, batchCount: 3, batchMask: m.baseAddress)
            for v in visibilities + [tree] {
                var perHead = [Float](repeating: 0, count: width), together = [Float](repeating: .nan, count: width)
                var scores = [Float](repeating: 0, count: headCount * (slots + 1))
                query.withUnsafeBufferPointer { q in
                    keys.withUnsafeBufferPointer { k in
                        values.withUnsafeBufferPointer { vs in
                            perHead.withUnsafeMutableBufferPointer { out in
                                for h in 0..<headCount {
                                    let o = h * headDim
                                    Attention.attend(query: q.baseAddress! + o, keys: k.baseAddress! + o, values: vs.baseAddress! + o,
                                                     stride: stride, headDim: headDim, visibility: v, scores: &scores,
                                                     out: out.baseAddress! + o)
                                }
                            }
                        }
                    }
                }
                Attention.attendEveryHead(query: query, keys: keys, values: values, stride: stride, headCount: headCount,
                                          headDim: headDim, visibility: v, scores: &scores, scoresPerHead: slots + 1,
                                          out: &together)
                #expect(together == perHead)
            }
        }
    }
}
