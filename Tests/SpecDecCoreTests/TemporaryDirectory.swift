import SpecDecCore
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory for malformed model files, removed on deinit.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/specdec-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { _ = system("rm -rf '\(path)'") }

    func write(_ name: String, _ bytes: [UInt8]) {
        let file = fopen(path + "/" + name, "wb")!
        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    func write(_ name: String, text: String) { write(name, Array(text.utf8)) }

    /// Copies a fixture's config.json and model.safetensors, letting `edit` change them.
    func copyModel(from directory: String, config edit: (String) -> String = { $0 },
                   weights editWeights: ([UInt8]) -> [UInt8] = { $0 }) throws {
        let config = String(decoding: try MappedFile.readAll(directory + "/config.json"), as: UTF8.self)
        write("config.json", text: edit(config))
        write("model.safetensors", editWeights(try MappedFile.readAll(directory + "/model.safetensors")))
    }
}

extension Array where Element == UInt8 {
    /// Replaces the first occurrence of `old` with `new` (same length keeps offsets valid).
    func replacingFirst(_ old: String, with new: String) -> [UInt8] {
        let o = Array(old.utf8), n = Array(new.utf8)
        guard let start = (0...(count - o.count)).first(where: { Array(self[$0..<($0 + o.count)]) == o }) else { return self }
        return Array(self[..<start]) + n + Array(self[(start + o.count)...])
    }
}
