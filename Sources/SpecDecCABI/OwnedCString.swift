#if canImport(Glibc)
import Glibc
#endif

/// A NUL-terminated copy of a Swift string at a stable address, for `const char *`
/// results that stay valid until the owner replaces or releases them.
final class OwnedCString {
    let pointer: UnsafeMutablePointer<CChar>

    init(_ text: String) {
        pointer = strdup(text) ?? strdup("")!
    }

    deinit { free(pointer) }
}
