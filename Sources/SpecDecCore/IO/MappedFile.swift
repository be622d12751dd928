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
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
            var done = 0
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n <= 0 {
                    buffer.deallocate()
                    throw .io("cannot read \(path): \(n < 0 ? String(cString: strerror(errno)) : "unexpected end of file")")
                }
                done += n
            }
            bytes = UnsafeRawBufferPointer(buffer)
            isMapped = false
        }
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) } else { bytes.deallocate() }
    }

    /// Reads a whole small file (config.json and the like).
    public static func readAll(_ path: String) throws(SpecDecError) -> [UInt8] {
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
