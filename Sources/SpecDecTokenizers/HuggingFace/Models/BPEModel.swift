/// Byte-pair encoding as in tokenizer.json (`"type": "BPE"`): a word starts as one symbol
/// per character (per byte for byte-level models) and the adjacent pair with the lowest
/// merge rank is merged, leftmost first, until no pair has a merge.
struct BPEModel: TokenizerModel {
    /// How words reach the model.
    enum Input: Sendable {
        /// Raw bytes from a ByteLevel pre-tokenizer that skipped its mapping: the vocabulary
        /// was mapped back to bytes, and every byte is one initial symbol.
        case rawBytes
        /// UTF-8 text: every character is one initial symbol.
        case characters
    }

    let input: Input
    let idToToken: [String?]
    private let tokenIds: [String: Int32]
    /// Vocabulary keyed by the bytes words arrive in (raw bytes or UTF-8).
    private let inputVocab: ByteStringMap
    /// Merge rank and result per pair of ids, packed as rank << 32 | new id.
    private let merges: PairMap
    /// Raw-byte input: the initial symbols for each byte (one id, or byte-fallback ids).
    private let byteSymbols: [[Int32]]
    private let unknownId: Int32?
    private let byteFallbackIds: [Int32]?
    let fuseUnknown: Bool
    let ignoreMerges: Bool
    private let continuingSubwordPrefix: [UInt8]
    private let endOfWordSuffix: [UInt8]

    init(vocab: [(String, Int32)], merges mergeList: [(String, String)], input: Input, unknownToken: String?,
         byteFallback: Bool, fuseUnknown: Bool, ignoreMerges: Bool,
         continuingSubwordPrefix: String?, endOfWordSuffix: String?) throws(TokenizerError) {
        self.input = input
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = Array((continuingSubwordPrefix ?? "").utf8)
        self.endOfWordSuffix = Array((endOfWordSuffix ?? "").utf8)

        var tokenIds: [String: Int32] = [:]
        tokenIds.reserveCapacity(vocab.count)
        let idToToken = try TokenIdTable.make(vocab, kind: "BPE")
        var inputVocab = ByteStringMap(capacity: vocab.count)
        for (token, id) in vocab {
            tokenIds[token] = id
            switch input {
            case .characters:
                inputVocab.set(Array(token.utf8), id)
            case .rawBytes:
                if let bytes = ByteLevelAlphabet.unmap(token) { inputVocab.set(bytes, id) }
            }
        }
        self.idToToken = idToToken
        self.tokenIds = tokenIds
        self.inputVocab = inputVocab

        if let unknownToken {
            guard let id = tokenIds[unknownToken] else {
                throw TokenizerError.format("BPE unk_token \"\(unknownToken)\" is not in the vocabulary")
            }
            unknownId = id
        } else {
            unknownId = nil
        }

        if byteFallback {
            var ids: [Int32] = []
            for b in 0..<256 {
                guard let id = tokenIds[BPEModel.byteToken(UInt8(b))] else { ids = []; break }
                ids.append(id)
            }
            byteFallbackIds = ids.count == 256 ? ids : nil
            // With some byte tokens missing, the reference falls back per character only
            // when all its bytes exist; keep a sparse table for that case.
            if ids.count != 256 {
                var sparse = [Int32](repeating: -1, count: 256)
                for b in 0..<256 { sparse[b] = tokenIds[BPEModel.byteToken(UInt8(b))] ?? -1 }
                sparseByteFallback = sparse
            } else {
                sparseByteFallback = nil
            }
        } else {
            byteFallbackIds = nil
            sparseByteFallback = nil
        }

        var merges = PairMap(capacity: mergeList.count)
        let prefixLength = (continuingSubwordPrefix ?? "").count
        for (rank, (a, b)) in mergeList.enumerated() {
            guard let left = tokenIds[a], let right = tokenIds[b] else {
                throw TokenizerError.format("BPE merge \"\(a) \(b)\" uses a token that is not in the vocabulary")
            }
            let merged = a + (prefixLength > 0 && b.hasPrefix(continuingSubwordPrefix ?? "") ? String(b.dropFirst(prefixLength)) : b)
            guard let result = tokenIds[merged] else {
                throw TokenizerError.format("BPE merge \"\(a) \(b)\" produces \"\(merged)\", which is not in the vocabulary")
            }
            // A repeated pair keeps its last rank, as the reference's map does.
            merges.set(PairMap.key(left, right), UInt64(rank) << 32 | UInt64(UInt32(bitPattern: result)))
        }
        self.merges = merges

        var byteSymbols: [[Int32]] = []
        if case .rawBytes = input {
            for b in 0..<256 {
                let token = String(Character(Unicode.Scalar(ByteLevelAlphabet.scalar(for: UInt8(b))) ?? "?"))
                if let id = tokenIds[token] {
                    byteSymbols.append([id])
                } else {
                    byteSymbols.append([])
                }
            }
        }
        self.byteSymbols = byteSymbols
    }

    private let sparseByteFallback: [Int32]?

    static func byteToken(_ b: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
        return "<0x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 15)]) + ">"
    }

    func tokenToId(_ token: String) -> Int32? { tokenIds[token] }

    // MARK: - Encoding

    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], scratch: EncodeScratch) {
        if word.isEmpty { return }
        if ignoreMerges, let id = inputVocab.get(word) {
            ids.append(id)
            return
        }
        scratch.symbols.removeAll(keepingCapacity: true)
        switch input {
        case .rawBytes:
            initialSymbolsFromBytes(word, scratch)
        case .characters:
            initialSymbolsFromCharacters(word, scratch)
        }
        let n = scratch.symbols.count
        if n > 1 {
            if n <= 48 { mergeLinear(scratch) } else { mergeWithHeap(scratch) }
        }
        ids.append(contentsOf: scratch.symbols)
    }

    /// The reference keeps an unknown character pending until the next known character or
    /// the end of the word (byte-fallback ids do not flush it), fusing runs when asked.
    private struct PendingUnknown {
        var pending = false

        @inline(__always)
        mutating func known(_ model: BPEModel, _ scratch: EncodeScratch) {
            if pending, let id = model.unknownId { scratch.symbols.append(id) }
            pending = false
        }

        @inline(__always)
        mutating func unknown(_ model: BPEModel, _ scratch: EncodeScratch) {
            guard let id = model.unknownId else { return }
            if pending, !model.fuseUnknown { scratch.symbols.append(id) }
            pending = true
        }

        @inline(__always)
        func finish(_ model: BPEModel, _ scratch: EncodeScratch) {
            if pending, let id = model.unknownId { scratch.symbols.append(id) }
        }
    }

    private func initialSymbolsFromBytes(_ word: UnsafeBufferPointer<UInt8>, _ scratch: EncodeScratch) {
        var unknown = PendingUnknown()
        for b in word {
            let symbols = byteSymbols[Int(b)]
            if symbols.count == 1 {
                unknown.known(self, scratch)
                scratch.symbols.append(symbols[0])
                continue
            }
            // The byte's character is not in the vocabulary: fall back on the bytes of its
            // UTF-8 form, as the reference does for the mapped character.
            var utf8: [UInt8] = []
            UTF8Text.append(ByteLevelAlphabet.scalar(for: b), to: &utf8)
            if !appendByteFallback(utf8[...], scratch) { unknown.unknown(self, scratch) }
        }
        unknown.finish(self, scratch)
    }

    /// Appends byte-fallback ids for `bytes` when every byte has one; false otherwise.
    private func appendByteFallback(_ bytes: ArraySlice<UInt8>, _ scratch: EncodeScratch) -> Bool {
        if let byteFallbackIds {
            for b in bytes { scratch.symbols.append(byteFallbackIds[Int(b)]) }
            return true
        }
        if let sparse = sparseByteFallback {
            guard bytes.allSatisfy({ sparse[Int($0)] >= 0 }) else { return false }
            for b in bytes { scratch.symbols.append(sparse[Int(b)]) }
            return true
        }
        return false
    }

    private func initialSymbolsFromCharacters(_ word: UnsafeBufferPointer<UInt8>, _ scratch: EncodeScratch) {
        var unknown = PendingUnknown()
        var i = 0
        let affixes = !continuingSubwordPrefix.isEmpty || !endOfWordSuffix.isEmpty
        while i < word.count {
            let length = min(UTF8Text.sequenceLength(word[i]), word.count - i)
            let character = UnsafeBufferPointer(rebasing: word[i..<i + length])
            var key: [UInt8]?
            if affixes {
                var bytes: [UInt8] = []
                if i > 0 { bytes.append(contentsOf: continuingSubwordPrefix) }
                bytes.append(contentsOf: character)
                if i + length == word.count { bytes.append(contentsOf: endOfWordSuffix) }
                key = bytes
            }
            let id: Int32?
            if let key { id = inputVocab.get(key) } else { id = inputVocab.get(character) }
            if let id {
                unknown.known(self, scratch)
                scratch.symbols.append(id)
            } else if !appendByteFallback((key ?? Array(character))[...], scratch) {
                unknown.unknown(self, scratch)
            }
            i += length
        }
        unknown.finish(self, scratch)
    }

    @inline(__always)
    private func pairRank(_ left: Int32, _ right: Int32) -> UInt64 {
        merges.get(PairMap.key(left, right)) ?? UInt64.max
    }

    /// For short words: keep the rank of every adjacent pair, merge the smallest (leftmost
    /// on ties) and refresh only the two pairs next to the merge.
    private func mergeLinear(_ scratch: EncodeScratch) {
        var n = scratch.symbols.count
        scratch.ranks.removeAll(keepingCapacity: true)
        for i in 0..<(n - 1) { scratch.ranks.append(pairRank(scratch.symbols[i], scratch.symbols[i + 1])) }
        scratch.symbols.withUnsafeMutableBufferPointer { symbols in
            scratch.ranks.withUnsafeMutableBufferPointer { ranks in
                while n > 1 {
                    var best = UInt64.max
                    var k = -1
                    for i in 0..<(n - 1) where ranks[i] < best {
                        best = ranks[i]
                        k = i
                    }
                    if k < 0 { break }
                    symbols[k] = Int32(bitPattern: UInt32(truncatingIfNeeded: best))
                    // Remove symbol k+1 and pair k+1.
                    var i = k + 1
                    while i < n - 1 {
                        symbols[i] = symbols[i + 1]
                        ranks[i] = i + 1 < n - 1 ? ranks[i + 1] : UInt64.max
                        i += 1
                    }
                    n -= 1
                    if k > 0 { ranks[k - 1] = pairRank(symbols[k - 1], symbols[k]) }
                    if k < n - 1 { ranks[k] = pairRank(symbols[k], symbols[k + 1]) }
                }
            }
        }
        scratch.symbols.removeLast(scratch.symbols.count - n)
    }

    /// For long words: symbols in a linked list and candidate merges in a min-heap of
    /// rank << 32 | position, skipping entries that merges elsewhere made stale.
    private func mergeWithHeap(_ scratch: EncodeScratch) {
        let n = scratch.symbols.count
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.previous.append(Int32(i - 1))
            scratch.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        var heap = MinHeap(storage: scratch.heap)
        for i in 0..<(n - 1) {
            let rank = pairRank(scratch.symbols[i], scratch.symbols[i + 1])
            if rank != UInt64.max { heap.push((rank >> 32) << 32 | UInt64(i)) }
        }
        var alive = [Bool](repeating: true, count: n)
        while let top = heap.pop() {
            let rank = top >> 32
            let position = Int(top & 0xFFFF_FFFF)
            guard alive[position] else { continue }
            let nextPosition = Int(scratch.next[position])
            guard nextPosition >= 0 else { continue }
            let current = pairRank(scratch.symbols[position], scratch.symbols[nextPosition])
            guard current != UInt64.max, current >> 32 == rank else { continue }
            scratch.symbols[position] = Int32(bitPattern: UInt32(truncatingIfNeeded: current))
            alive[nextPosition] = false
            let after = Int(scratch.next[nextPosition])
            scratch.next[position] = Int32(after)
            if after >= 0 { scratch.previous[after] = Int32(position) }
            let before = Int(scratch.previous[position])
            if before >= 0 {
                let r = pairRank(scratch.symbols[before], scratch.symbols[position])
                if r != UInt64.max { heap.push((r >> 32) << 32 | UInt64(before)) }
            }
            if after >= 0 {
                let r = pairRank(scratch.symbols[position], scratch.symbols[after])
                if r != UInt64.max { heap.push((r >> 32) << 32 | UInt64(position)) }
            }
        }
        scratch.heap = heap.storage
        var write = 0
        var i = 0
        while i >= 0 && i < n {
            scratch.symbols[write] = scratch.symbols[i]
            write += 1
            i = Int(scratch.next[i])
        }
        scratch.symbols.removeLast(n - write)
    }
}
