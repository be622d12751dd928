/// A binary min-heap of packed keys.
struct MinHeap {
    var storage: [UInt64]

    init(storage: [UInt64]) {
        self.storage = storage
        self.storage.removeAll(keepingCapacity: true)
    }

    mutating func push(_ value: UInt64) {
        storage.append(value)
        var i = storage.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if storage[parent] <= storage[i] { break }
            storage.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = storage.first else { return nil }
        let last = storage.removeLast()
        if storage.isEmpty { return top }
        storage[0] = last
        var i = 0
        let n = storage.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            let r = l + 1
            let child = r < n && storage[r] < storage[l] ? r : l
            if storage[i] <= storage[child] { break }
            storage.swapAt(i, child)
            i = child
        }
        return top
    }
}
