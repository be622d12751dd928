import CSpecDecABI
import CSpecDecShims
import SpecDecCore

/// Static text for each status code.
private let statusTexts: [StaticString] = [
    "ok", "invalid argument", "I/O error", "invalid file format", "unsupported",
    "missing tensor or wrong shape", "token id out of range", "buffer too small",
    "capacity exceeded", "out of memory", "cancelled", "callback failed", "internal error",
    "invalid UTF-8",
]

@_cdecl("specdec_status_string")
public func specdec_status_string(_ status: specdec_status) -> UnsafePointer<CChar> {
    let text: StaticString = status >= 0 && Int(status) < statusTexts.count ? statusTexts[Int(status)] : "unknown status"
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("specdec_last_error_message")
public func specdec_last_error_message() -> UnsafePointer<CChar> {
    specdec_thread_error_get()
}

/// Records a failure for the calling thread (and the session, when there is one) and
/// returns its status code.
func fail(_ error: SpecDecError, session: SessionHandle? = nil) -> specdec_status {
    specdec_thread_error_set(error.message)
    session?.errorMessage = OwnedCString(error.message)
    return error.kind.rawValue
}

func fail(_ kind: SpecDecError.Kind, _ message: String, session: SessionHandle? = nil) -> specdec_status {
    fail(SpecDecError(kind, message), session: session)
}

/// Runs `body`, turning a thrown SpecDecError into its status code.
func guarded(session: SessionHandle? = nil, _ body: () throws(SpecDecError) -> Void) -> specdec_status {
    do {
        try body()
        return SPECDEC_OK
    } catch {
        return fail(error, session: session)
    }
}

/// Copies the caller's params struct over the defaults, reading only the bytes that the
/// caller's `struct_size` covers (older callers know fewer fields).
func readParams<T>(_ pointer: UnsafePointer<T>?, defaults: T, name: String) throws(SpecDecError) -> T {
    guard let pointer else { return defaults }
    let size = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
    guard size >= MemoryLayout<UInt32>.size else {
        throw .invalidArgument("\(name).struct_size is \(size); set it to sizeof(\(name)) or use the *_default_params() function")
    }
    var result = defaults
    withUnsafeMutableBytes(of: &result) { destination in
        let count = min(size, MemoryLayout<T>.size)
        destination.baseAddress!.copyMemory(from: UnsafeRawPointer(pointer), byteCount: count)
    }
    return result
}

/// Writes `value` into the caller's struct, at most as many bytes as its `struct_size`
/// says, keeping the caller's struct_size.
func writeOut<T>(_ value: T, to pointer: UnsafeMutablePointer<T>, name: String) throws(SpecDecError) {
    let size = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
    guard size >= MemoryLayout<UInt32>.size else {
        throw .invalidArgument("\(name).struct_size is \(size); set it to sizeof(\(name)) before the call")
    }
    var copy = value
    withUnsafeBytes(of: &copy) { source in
        let count = min(size, MemoryLayout<T>.size)
        // Skip struct_size itself (the first 4 bytes) so the caller's value stays.
        if count > 4 {
            UnsafeMutableRawPointer(pointer).advanced(by: 4).copyMemory(from: source.baseAddress!.advanced(by: 4), byteCount: count - 4)
        }
    }
}

/// Copies ids into a caller buffer with the (buf, cap, *out_len) convention.
func copyOut(_ values: UnsafeBufferPointer<Int32>, to buffer: UnsafeMutablePointer<Int32>?, capacity: Int32,
             length: UnsafeMutablePointer<Int32>?) throws(SpecDecError) {
    guard let length else { throw .invalidArgument("out_len must not be NULL") }
    length.pointee = Int32(values.count)
    guard capacity >= 0 else { throw .invalidArgument("cap must be >= 0") }
    guard values.count <= Int(capacity) else {
        throw .init(.bufferTooSmall, "buffer holds \(capacity) ids, \(values.count) needed")
    }
    if values.isEmpty { return }
    guard let buffer else { throw .invalidArgument("buf must not be NULL when ids are to be copied") }
    buffer.update(from: values.baseAddress!, count: values.count)
}
