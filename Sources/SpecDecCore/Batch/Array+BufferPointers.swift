extension Array where Element == [Int32] {
    /// The id lists as buffers for the duration of `body` (the form batch calls take);
    /// an empty list is a buffer of no ids.
    public func withUnsafeBufferPointers<R>(_ body: ([UnsafeBufferPointer<Int32>]) throws -> R) rethrows -> R {
        let copies = map { ids -> UnsafeMutableBufferPointer<Int32> in
            let copy = UnsafeMutableBufferPointer<Int32>.allocate(capacity: Swift.max(1, ids.count))
            _ = copy.initialize(from: ids)
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        return try body(zip(copies, self).map { UnsafeBufferPointer(start: $0.0.baseAddress, count: $0.1.count) })
    }
}
