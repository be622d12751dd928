import Glibc

/// Reads whole files with the C library: the module avoids Foundation so that the shipped
/// library stays small.
enum FileBytes {
    static func read(_ path: String) throws(TokenizerError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TokenizerError(.io, "cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TokenizerError(.io, "cannot stat \(path): \(errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw TokenizerError(.io, "\(path) is not a regular file") }
        let size = Int(info.st_size)
        // A file larger than the machine's memory (a sparse file, or the wrong file) is
        // refused before its buffer is allocated: a failed allocation would end the process.
        let physical = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
        if physical > 0 && size > physical {
            throw TokenizerError(.io, "\(path) holds \(size) bytes, more than this machine's \(physical) bytes of memory")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while done < size {
                let n = Glibc.read(fd, base + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }
                done += n
            }
        }
        if failure != 0 { throw TokenizerError(.io, "cannot read \(path): \(String(cString: strerror(failure)))") }
        if done < size { bytes.removeSubrange(done...) }
        return bytes
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
