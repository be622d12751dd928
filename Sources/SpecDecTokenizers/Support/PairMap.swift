/// Open-addressing hash map from a pair of token ids to a packed value. BPE looks up a
/// merge for every adjacent pair of every word, so this replaces `Dictionary` (SipHash)
/// with one multiply and, almost always, one probe.
struct PairMap: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: PairMap.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Inserts unless the key is present; returns whether it inserted.
    @discardableResult
    mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) -> Bool {
        if (count + 1) * 2 > keys.count { grow() }
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == PairMap.empty {
                keys[i] = key
                values[i] = value
                count += 1
                return true
            }
            if k == key { return false }
            i = (i + 1) & mask
        }
    }

    mutating func set(_ key: UInt64, _ value: UInt64) {
        if !insertIfAbsent(key, value) {
            var i = slot(key)
            while keys[i] != key { i = (i + 1) & mask }
            values[i] = value
        }
    }

    @inline(__always)
    func get(_ key: UInt64) -> UInt64? {
        keys.withUnsafeBufferPointer { k in
            var i = slot(key)
            while true {
                let stored = k[i]
                if stored == key { return values.withUnsafeBufferPointer { $0[i] } }
                if stored == PairMap.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt64](repeating: PairMap.empty, count: oldKeys.count * 2)
        values = [UInt64](repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for i in 0..<oldKeys.count where oldKeys[i] != PairMap.empty {
            insertIfAbsent(oldKeys[i], oldValues[i])
        }
    }
}
