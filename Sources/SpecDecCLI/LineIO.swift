import SpecDecCore
#if canImport(Glibc)
import Glibc
#endif

/// Whole-line output to stdout or a file, and whole-descriptor input, without Foundation.

/// stdout or a file, one line per write.
final class OutputSink {
    private let descriptor: Int32

    init(path: String?) throws {
        guard let path, path != "-" else {
            descriptor = 1
            return
        }
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw SpecDecError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if descriptor != 1 { close(descriptor) } }

    func write(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { writeAll(descriptor, $0) }
    }
}

func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { writeAll(2, $0) }
}

private func writeAll(_ descriptor: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
    var offset = 0
    while offset < bytes.count {
        let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written <= 0 { return }
        offset += written
    }
}

func readAll(_ descriptor: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

/// The lines of a file, or of stdin for nil or "-" (a trailing newline ends the last line;
/// a CR before a newline is dropped).
func readInputLines(_ path: String?) throws -> [String] {
    var descriptor: Int32 = 0
    if let path, path != "-" {
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SpecDecError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
    }
    defer { if descriptor != 0 { close(descriptor) } }
    let bytes = readAll(descriptor)
    var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
    }
    if lines.last == "" { lines.removeLast() }
    return lines
}
