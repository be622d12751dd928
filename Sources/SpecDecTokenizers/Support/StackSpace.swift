import Glibc

/// Where the calling thread's stack ends, so that recursive matching can stop before it
/// overflows. Threads other than the main one often have 2 MB of stack or less (a host's
/// thread pool, a Rust or Java thread), and a backtracking search over a long text nests
/// deeply; running out of stack would end the process.
enum StackSpace {
    /// Bytes kept free below the point where matching gives up, for the frames between two
    /// checks and for whatever the caller does after the search.
    static let margin: UInt = 128 << 10

    /// The lowest stack address this thread may use before matching must stop (0 when the
    /// thread's stack cannot be found). Cached per thread: finding it reads /proc on the
    /// main thread.
    static func floor() -> UInt {
        if let cached = pthread_getspecific(key) { return cached.load(as: UInt.self) }
        var low: UInt = 0
        var attributes = pthread_attr_t()
        if let getAttributes, getAttributes(pthread_self(), &attributes) == 0 {
            var address: UnsafeMutableRawPointer? = nil
            var size = 0
            if pthread_attr_getstack(&attributes, &address, &size) == 0, let address {
                low = UInt(bitPattern: address) + margin
            }
            pthread_attr_destroy(&attributes)
        }
        if let box = malloc(MemoryLayout<UInt>.size) {
            box.storeBytes(of: low, as: UInt.self)
            pthread_setspecific(key, box)
        }
        return low
    }

    /// An address in the caller's frame (the stack grows down, towards `floor()`).
    @inline(never)
    static func current() -> UInt {
        var marker: UInt8 = 0
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
    }

    /// glibc's pthread_getattr_np, which the Glibc module does not export (it needs
    /// _GNU_SOURCE); looked up once.
    private typealias GetAttributes = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
    private static let getAttributes: GetAttributes? = {
        guard let symbol = dlsym(nil, "pthread_getattr_np") else { return nil }
        return unsafeBitCast(symbol, to: GetAttributes.self)
    }()

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()
}
