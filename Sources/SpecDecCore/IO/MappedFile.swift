#if canImport(Glibc)
import Glibc
#endif

/// A read-only file mapped into memory (or read into an owned buffer). Weight tensors
/// point into it, so it lives as long as the model that loaded it.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    public init(path: String, useMmap: Bool = true) throws(SpecDecError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot stat \(path): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .io("\(path) is not a regular file") }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        if useMmap {
            let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let address, address != MAP_FAILED else {
                throw .init(.outOfMemory, "cannot map \(path) (\(size) bytes): \(String(cString: strerror(errno)))")
            }
            bytes = UnsafeRawBufferPointer(start: address, count: size)
            isMapped = true
        } else {
            // A file that claims more bytes than the machine has (a sparse file, or the wrong
            // file) is refused before the buffer is allocated; a failed allocation is a status.
            let physical = PhysicalMemory.bytes
            var raw: UnsafeMutableRawPointer? = nil
            guard size <= physical, posix_memalign(&raw, 64, size) == 0, let raw else {
                throw .init(.outOfMemory, "cannot read \(path) (\(PhysicalMemory.describe(size))) into memory: this machine has \(PhysicalMemory.describe(physical)); map it instead (use_mmap = 1)")
            }
            var done = 0
            while done < size {
                let n = read(fd, raw + done, size - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    free(raw)
                    throw .io("cannot read \(path): \(n < 0 ? String(cString: strerror(errno)) : "unexpected end of file")")
                }
                done += n
            }
            bytes = UnsafeRawBufferPointer(start: raw, count: size)
            isMapped = false
        }
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) } else { free(UnsafeMutableRawPointer(mutating: base)) }
    }

    /// Reads a whole small file (config.json and the like); one larger than `limit` is not
    /// what its name says and is refused before it is copied.
    public static func readAll(_ path: String, limit: Int = 1 << 30) throws(SpecDecError) -> [UInt8] {
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) > limit {
            throw .format("\(path) holds \(PhysicalMemory.describe(Int(info.st_size))); files of this kind are at most \(PhysicalMemory.describe(limit))")
        }
        let file = try MappedFile(path: path, useMmap: false)
        return Array(file.bytes)
    }
}

/// File-system queries the loaders need, without Foundation.
public enum FileSystem {
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
