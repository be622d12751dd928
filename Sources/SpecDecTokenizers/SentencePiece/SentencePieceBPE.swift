/// SentencePiece's BPE model (bpe_model.cc): merges are not listed; the adjacent pair whose
/// concatenation is a piece with the highest score merges first (leftmost on ties).
/// User-defined symbols are frozen; merges that produce an unused piece are split back
/// into their parts at the end.
struct SentencePieceBPE: SentencePieceModel {
    let vocabulary: SentencePieceVocabulary

    /// A candidate merge; ordered by score (higher first), then left position (lower first).
    private struct Candidate {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
        var id: Int32

        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    private struct Symbol {
        var start: Int32
        var length: Int32
        var previous: Int32
        var next: Int32
        /// The piece id once known (after a merge); -1 for an initial character.
        var id: Int32
        var frozen: Bool
    }

    /// The merge state of one text: symbols as a linked list over byte ranges, and a heap of
    /// candidate merges (SampleEncode with alpha 0).
    private struct State {
        var symbols: [Symbol] = []
        var heap: [Candidate] = []
        /// Unused pieces made by a merge, by spelling, with the lengths of their two parts:
        /// they are split again at the end (the last registration wins, as in the C++).
        var reverseMerges: [[UInt8]: (Int, Int)] = [:]

        mutating func push(_ c: Candidate) {
            heap.append(c)
            heap.withUnsafeMutableBufferPointer { heap in
                var k = heap.count - 1
                while k > 0 {
                    let parent = (k - 1) / 2
                    guard heap[k].precedes(heap[parent]) else { break }
                    heap.swapAt(k, parent)
                    k = parent
                }
            }
        }

        mutating func pop() -> Candidate? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if heap.isEmpty { return top }
            heap.withUnsafeMutableBufferPointer { heap in
                heap[0] = last
                var k = 0
                let n = heap.count
                while true {
                    let l = 2 * k + 1
                    if l >= n { break }
                    let r = l + 1
                    let child = r < n && heap[r].precedes(heap[l]) ? r : l
                    guard heap[child].precedes(heap[k]) else { break }
                    heap.swapAt(k, child)
                    k = child
                }
            }
            return top
        }

        mutating func maybeAdd(_ left: Int32, _ right: Int32, _ text: UnsafeBufferPointer<UInt8>,
                               _ vocabulary: SentencePieceVocabulary) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[Int(left)]
            let r = symbols[Int(right)]
            guard !l.frozen, !r.frozen else { return }
            let s = Int(l.start)
            let size = Int(l.length + r.length)
            guard let id = vocabulary.normalPieces.get(UnsafeBufferPointer(rebasing: text[s..<s + size])) else { return }
            push(Candidate(score: vocabulary.scores[Int(id)], left: left, right: right, size: Int32(size), id: id))
            if vocabulary.types[Int(id)] == .unused {
                reverseMerges[Array(text[s..<s + size])] = (Int(l.length), Int(r.length))
            }
        }
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into pieces: inout [SentencePieceSpan]) {
        if text.isEmpty { return }
        var state = State()
        state.symbols.reserveCapacity(text.count)
        let hasUserDefined = !vocabulary.userDefined.isEmpty
        var i = 0
        while i < text.count {
            var length = min(sentencePieceCharLength(text[i]), text.count - i)
            var frozen = false
            if hasUserDefined, let (userLength, _) = vocabulary.userDefined.longestPrefix(text, from: i) {
                length = userLength
                frozen = true
            }
            let index = Int32(state.symbols.count)
            state.symbols.append(Symbol(start: Int32(i), length: Int32(length), previous: index - 1, next: index + 1,
                                        id: -1, frozen: frozen))
            i += length
        }
        let n = state.symbols.count
        state.symbols[n - 1].next = -1
        state.heap.reserveCapacity(n * 2)

        for k in 1..<max(n, 1) { state.maybeAdd(Int32(k - 1), Int32(k), text, vocabulary) }
        while let top = state.pop() {
            let l = Int(top.left)
            let r = Int(top.right)
            let left = state.symbols[l]
            let right = state.symbols[r]
            if left.length == 0 || right.length == 0 || left.length + right.length != top.size { continue }
            state.symbols[l].length = top.size
            state.symbols[l].id = top.id
            state.symbols[l].next = right.next
            if right.next >= 0 { state.symbols[Int(right.next)].previous = Int32(l) }
            state.symbols[r].length = 0
            state.maybeAdd(left.previous, Int32(l), text, vocabulary)
            state.maybeAdd(Int32(l), right.next, text, vocabulary)
        }

        var k = 0
        while k >= 0 && k < n {
            let symbol = state.symbols[k]
            let start = Int(symbol.start)
            let length = Int(symbol.length)
            if symbol.id >= 0, vocabulary.types[Int(symbol.id)] != .unused, !vocabulary.normalOverlapsReserved {
                pieces.append(SentencePieceSpan(start: start, end: start + length, id: symbol.id))
            } else {
                resegment(start, length, text, state.reverseMerges, &pieces)
            }
            k = Int(symbol.next)
        }
    }

    private func resegment(_ start: Int, _ length: Int, _ text: UnsafeBufferPointer<UInt8>,
                           _ reverseMerges: [[UInt8]: (Int, Int)], _ pieces: inout [SentencePieceSpan]) {
        let piece = UnsafeBufferPointer(rebasing: text[start..<start + length])
        let id = vocabulary.id(of: piece)
        if !reverseMerges.isEmpty, vocabulary.type(id) == .unused, let (leftLength, rightLength) = reverseMerges[Array(piece)] {
            resegment(start, leftLength, text, reverseMerges, &pieces)
            resegment(start + leftLength, rightLength, text, reverseMerges, &pieces)
            return
        }
        pieces.append(SentencePieceSpan(start: start, end: start + length, id: id))
    }
}
