/// SentencePiece's BPE model (bpe_model.cc): merges are not listed; the adjacent pair whose
/// concatenation is a piece with the highest score merges first (leftmost on ties).
/// User-defined symbols are frozen; merges that produce an unused piece are split back
/// into their parts at the end.
struct SentencePieceBPE: SentencePieceModel {
    let vocabulary: SentencePieceVocabulary

    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
        var frozen: Bool
    }

    /// A candidate merge; ordered by score (higher first), then left position (lower first).
    private struct Candidate {
        var score: Float
        var left: Int
        var right: Int
        var size: Int

        func precedes(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into pieces: inout [SentencePieceSpan]) {
        if text.isEmpty { return }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            var length = min(sentencePieceCharLength(text[i]), text.count - i)
            var frozen = false
            if let (userLength, _) = vocabulary.userDefined.longestPrefix(text, from: i) {
                length = userLength
                frozen = true
            }
            symbols.append(Symbol(start: i, length: length, previous: symbols.count - 1, next: -1, frozen: frozen))
            i += length
        }
        for k in 0..<(symbols.count - 1) { symbols[k].next = k + 1 }

        var heap: [Candidate] = []
        // Unused pieces made by a merge, by spelling, with the lengths of their two parts:
        // they are split again at the end (the last registration wins, as in the C++).
        var reverseMerges: [[UInt8]: (Int, Int)] = [:]

        func push(_ c: Candidate) {
            heap.append(c)
            var k = heap.count - 1
            while k > 0 {
                let parent = (k - 1) / 2
                guard heap[k].precedes(heap[parent]) else { break }
                heap.swapAt(k, parent)
                k = parent
            }
        }
        func pop() -> Candidate? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var k = 0
                while true {
                    let l = 2 * k + 1
                    if l >= heap.count { break }
                    let r = l + 1
                    let child = r < heap.count && heap[r].precedes(heap[l]) ? r : l
                    guard heap[child].precedes(heap[k]) else { break }
                    heap.swapAt(k, child)
                    k = child
                }
            }
            return top
        }
        func maybeAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, !symbols[left].frozen, !symbols[right].frozen else { return }
            let start = symbols[left].start
            let size = symbols[left].length + symbols[right].length
            guard let id = vocabulary.normalPieces.get(UnsafeBufferPointer(rebasing: text[start..<start + size])) else { return }
            push(Candidate(score: vocabulary.pieces[Int(id)].score, left: left, right: right, size: size))
            if vocabulary.type(id) == .unused {
                reverseMerges[Array(text[start..<start + size])] = (symbols[left].length, symbols[right].length)
            }
        }

        for k in 1..<symbols.count { maybeAdd(k - 1, k) }
        while let top = pop() {
            let l = top.left
            let r = top.right
            if symbols[l].length == 0 || symbols[r].length == 0 || symbols[l].length + symbols[r].length != top.size { continue }
            symbols[l].length += symbols[r].length
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[symbols[r].next].previous = l }
            symbols[r].length = 0
            maybeAdd(symbols[l].previous, l)
            maybeAdd(l, symbols[l].next)
        }

        func resegment(_ start: Int, _ length: Int) {
            let piece = UnsafeBufferPointer(rebasing: text[start..<start + length])
            let id = vocabulary.id(of: piece)
            if vocabulary.type(id) == .unused, let (leftLength, rightLength) = reverseMerges[Array(piece)] {
                resegment(start, leftLength)
                resegment(start + leftLength, rightLength)
                return
            }
            pieces.append(SentencePieceSpan(start: start, end: start + length, id: id))
        }
        var k = 0
        while k >= 0 && k < symbols.count {
            resegment(symbols[k].start, symbols[k].length)
            k = symbols[k].next
        }
    }
}
