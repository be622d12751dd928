/// Open-addressing hash map from byte strings to token ids, with all keys in one arena.
/// Vocabulary lookups by bytes (whole words, single characters) avoid building `String`s.
struct ByteStringMap: Sendable {
    private var arena: [UInt8] = []
    // Per slot: key offset in the arena (-1 when empty), key length, value, hash tag.
    private var offsets: [Int32]
    private var lengths: [Int32]
    private var values: [Int32]
    private var hashes: [UInt32]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        offsets = [Int32](repeating: -1, count: size)
        lengths = [Int32](repeating: 0, count: size)
        values = [Int32](repeating: 0, count: size)
        hashes = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-1a over 8-byte words, then a final mix: fast for the short keys of vocabularies.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(p.count)
        var i = 0
        let n = p.count
        if let base = p.baseAddress {
            while i + 8 <= n {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                h = (h ^ word) &* 0x100_0000_01B3
                h ^= h >> 29
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x100_0000_01B3
        }
        h ^= h >> 32
        h = h &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 29)
    }

    /// Inserts unless the key is present; returns whether it inserted.
    @discardableResult
    mutating func insertIfAbsent(_ key: UnsafeBufferPointer<UInt8>, _ value: Int32) -> Bool {
        if (count + 1) * 2 > offsets.count { grow() }
        let h = ByteStringMap.hash(key)
        if let i = find(key, h) {
            _ = i
            return false
        }
        var i = Int(truncatingIfNeeded: h) & mask
        while offsets[i] >= 0 { i = (i + 1) & mask }
        offsets[i] = Int32(arena.count)
        lengths[i] = Int32(key.count)
        values[i] = value
        hashes[i] = UInt32(truncatingIfNeeded: h >> 32)
        arena.append(contentsOf: key)
        count += 1
        return true
    }

    @discardableResult
    mutating func insertIfAbsent(_ key: [UInt8], _ value: Int32) -> Bool {
        key.withUnsafeBufferPointer { insertIfAbsent($0, value) }
    }

    mutating func set(_ key: [UInt8], _ value: Int32) {
        key.withUnsafeBufferPointer { p in
            if let i = find(p, ByteStringMap.hash(p)) { values[i] = value } else { insertIfAbsent(p, value) }
        }
    }

    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>, _ h: UInt64) -> Int? {
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var i = Int(truncatingIfNeeded: h) & mask
        return offsets.withUnsafeBufferPointer { offsets in
            lengths.withUnsafeBufferPointer { lengths in
                hashes.withUnsafeBufferPointer { hashes in
                    arena.withUnsafeBufferPointer { arena in
                        while true {
                            let offset = offsets[i]
                            if offset < 0 { return nil }
                            if hashes[i] == tag, Int(lengths[i]) == key.count {
                                if key.count == 0 { return i }
                                if let a = arena.baseAddress, let k = key.baseAddress,
                                   memcmpBytes(a + Int(offset), k, key.count) {
                                    return i
                                }
                            }
                            i = (i + 1) & mask
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    func get(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard let i = find(key, ByteStringMap.hash(key)) else { return nil }
        return values.withUnsafeBufferPointer { $0[i] }
    }

    func get(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { get($0) }
    }

    func get(_ key: String) -> Int32? {
        var key = key
        return key.withUTF8 { get($0) }
    }

    private mutating func grow() {
        let oldOffsets = offsets
        let oldLengths = lengths
        let oldValues = values
        let oldArena = arena
        let size = oldOffsets.count * 2
        offsets = [Int32](repeating: -1, count: size)
        lengths = [Int32](repeating: 0, count: size)
        values = [Int32](repeating: 0, count: size)
        hashes = [UInt32](repeating: 0, count: size)
        mask = size - 1
        arena = []
        arena.reserveCapacity(oldArena.count)
        count = 0
        oldArena.withUnsafeBufferPointer { a in
            for i in 0..<oldOffsets.count where oldOffsets[i] >= 0 {
                let start = Int(oldOffsets[i])
                insertIfAbsent(UnsafeBufferPointer(rebasing: a[start..<start + Int(oldLengths[i])]), oldValues[i])
            }
        }
    }
}

@inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
