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

extension Array {
    /// The storage of self[i] for every i in `indices`, all at once and without copies,
    /// for the duration of `body`; the buffers are gathered in `buffers` (emptied first,
    /// its storage reused).
    func withElementBuffers<T, R, E: Error>(_ indices: [Int], using buffers: inout [UnsafeBufferPointer<T>],
                                            _ body: ([UnsafeBufferPointer<T>]) throws(E) -> R) throws(E) -> R
    where Element == [T] {
        func nest(_ i: Int, _ buffers: inout [UnsafeBufferPointer<T>]) throws(E) -> R {
            guard i < indices.count else { return try body(buffers) }
            return try self[indices[i]].withUnsafeBufferPointer { (buffer) throws(E) -> R in
                buffers.append(buffer)
                return try nest(i + 1, &buffers)
            }
        }
        buffers.removeAll(keepingCapacity: true)
        buffers.reserveCapacity(indices.count)
        return try nest(0, &buffers)
    }
}
