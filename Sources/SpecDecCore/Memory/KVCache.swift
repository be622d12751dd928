/// The keys and values of every layer for the tokens a session has seen, in the
/// session's arena. Slot s holds the token at `tokens[s]`, rotated for `positions[s]`.
/// Rolling back (a rejected draft) only moves `length`.
public struct KVCache {
    public let layerCount: Int
    public let capacity: Int
    /// Floats per slot and layer (kvHeads × headDim).
    public let width: Int
    private let keys: UnsafeMutablePointer<Float>
    private let values: UnsafeMutablePointer<Float>
    public let tokens: UnsafeMutablePointer<Int32>
    public let positions: UnsafeMutablePointer<Int32>
    public private(set) var length = 0

    public init(layerCount: Int, capacity: Int, width: Int, arena: Arena) throws(SpecDecError) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.width = width
        keys = try arena.allocate(Float.self, count: layerCount * capacity * width)
        values = try arena.allocate(Float.self, count: layerCount * capacity * width)
        tokens = try arena.allocate(Int32.self, count: capacity)
        positions = try arena.allocate(Int32.self, count: capacity)
    }

    public static func footprint(layerCount: Int, capacity: Int, width: Int) -> Int {
        2 * Arena.footprint(Float.self, count: layerCount * capacity * width) + 2 * Arena.footprint(Int32.self, count: capacity)
    }

    @inline(__always) public func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * width }
    @inline(__always) public func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * width }

    public var freeSlots: Int { capacity - length }

    /// Records the ids and positions of `count` tokens appended after the current end;
    /// the model writes their keys and values before `commitAppend`.
    public func stage(tokens ids: UnsafePointer<Int32>, positions pos: UnsafePointer<Int32>, count: Int) {
        for i in 0..<count {
            tokens[length + i] = ids[i]
            positions[length + i] = pos[i]
        }
    }

    public mutating func commitAppend(_ count: Int) { length += count }

    public mutating func truncate(to newLength: Int) {
        precondition(newLength >= 0 && newLength <= length)
        length = newLength
    }

    /// Moves slots `offset + from[i]` (in order) so they follow slot `start - 1`; used to
    /// keep an accepted path of a draft tree (node indices, `offset` the first node's slot).
    /// The slots must be ascending and >= start.
    public mutating func compact(keeping from: [Int], offset: Int = 0, startingAt start: Int) {
        for i in from.indices where offset + from[i] != start + i {
            let source = offset + from[i]
            let destination = start + i
            for layer in 0..<layerCount {
                (keys(layer: layer) + destination * width).update(from: keys(layer: layer) + source * width, count: width)
                (values(layer: layer) + destination * width).update(from: values(layer: layer) + source * width, count: width)
            }
            tokens[destination] = tokens[source]
            positions[destination] = positions[source]
        }
        length = start + from.count
    }
}
