/// Where a projection's input is converted once (to bf16, int8 or padded fp32) before the
/// row chunks of the compact-weight kernels read it. One per thread pool (so per session);
/// it grows to the largest pass seen and is then reused, so steady decoding allocates nothing.
public final class ActivationScratch: @unchecked Sendable {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    public init(bytes: Int = 1 << 16) {
        capacity = max(bytes, 64)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { pointer.deallocate() }

    /// At least `bytes` of 64-byte aligned memory; contents are not kept across growth.
    func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity {
            pointer.deallocate()
            capacity = max(bytes, capacity * 2)
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        return pointer
    }
}
