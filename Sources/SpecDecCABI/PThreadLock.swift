#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex around a value. Synchronization's Mutex would do, but its futex lives in
/// a library ThreadSanitizer does not instrument, so every access it guards reads as a race;
/// pthread_mutex_lock is one ThreadSanitizer knows.
final class PThreadLock<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}
