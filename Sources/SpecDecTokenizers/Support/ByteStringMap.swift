/// Open-addressing hash map from byte strings to token ids, with all keys in one arena.
/// Vocabulary lookups by bytes (whole words, single characters) avoid building `String`s.
struct ByteStringMap: Sendable {
    /// One probe touches one 16-byte slot: key offset in the arena (-1 when empty), key
    /// length, value, and 32 bits of the hash to skip most key comparisons.
    private struct Slot {
        var offset: Int32 = -1
        var length: Int32 = 0
        var value: Int32 = 0
        var tag: UInt32 = 0
    }

    private var arena: [UInt8] = []
    private var slots: [Slot]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-style mixing over 8-byte words, then a final mix: fast for the short keys of
        // vocabularies.
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
        if (count + 1) * 2 > slots.count { grow() }
        let h = ByteStringMap.hash(key)
        if find(key, h) != nil { return false }
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].offset >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(offset: Int32(arena.count), length: Int32(key.count), value: value,
                        tag: UInt32(truncatingIfNeeded: h >> 32))
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
            if let i = find(p, ByteStringMap.hash(p)) { slots[i].value = value } else { insertIfAbsent(p, value) }
        }
    }

    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>, _ h: UInt64) -> Int? {
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        let length = Int32(truncatingIfNeeded: key.count)
        var i = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeBufferPointer { slots in
            arena.withUnsafeBufferPointer { arena in
                while true {
                    let slot = slots[i]
                    if slot.offset < 0 { return nil }
                    if slot.tag == tag, slot.length == length {
                        if key.count == 0 { return i }
                        if let a = arena.baseAddress, let k = key.baseAddress,
                           memcmpBytes(a + Int(slot.offset), k, key.count) {
                            return i
                        }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    func get(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard let i = find(key, ByteStringMap.hash(key)) else { return nil }
        return slots.withUnsafeBufferPointer { $0[i].value }
    }

    func get(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { get($0) }
    }

    func get(_ key: String) -> Int32? {
        var key = key
        return key.withUTF8 { get($0) }
    }

    private mutating func grow() {
        let old = slots
        let oldArena = arena
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        arena = []
        arena.reserveCapacity(oldArena.count)
        count = 0
        oldArena.withUnsafeBufferPointer { a in
            for slot in old where slot.offset >= 0 {
                let start = Int(slot.offset)
                insertIfAbsent(UnsafeBufferPointer(rebasing: a[start..<start + Int(slot.length)]), slot.value)
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
