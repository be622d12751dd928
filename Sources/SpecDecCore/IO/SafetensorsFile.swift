import SpecDecJSON

/// Element types a safetensors file may store that the engine can load.
public enum StoredDType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    var byteWidth: Int { self == .f32 ? 4 : 2 }
}

/// One tensor's place in a safetensors file.
public struct SafetensorsEntry: @unchecked Sendable {
    public let name: String
    public let dtype: StoredDType
    public let shape: [Int]
    /// Raw bytes inside the mapped file.
    public let data: UnsafeRawBufferPointer
    public let file: MappedFile

    public var elementCount: Int { shape.reduce(1, *) }
}

/// Parses the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping names to dtype/shape/offsets, then the tensor bytes. Every offset is checked
/// against the file size so that a truncated file is an error, not a fault.
public struct SafetensorsFile: Sendable {
    public let file: MappedFile
    public let entries: [String: SafetensorsEntry]

    public init(path: String, useMmap: Bool = true) throws(SpecDecError) {
        let file = try MappedFile(path: path, useMmap: useMmap)
        self.file = file
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw .format("\(path): truncated safetensors file (\(bytes.count) bytes, no header)") }
        var headerLength: UInt64 = 0
        for i in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(bytes[i]) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .format("\(path): truncated safetensors file (header of \(headerLength) bytes does not fit in \(bytes.count))")
        }
        let headerBytes = UnsafeBufferPointer(rebasing: bytes.bindMemory(to: UInt8.self)[8..<(8 + Int(headerLength))])
        let header: JSONValue
        do { header = try JSONParser.parse(headerBytes) } catch {
            throw .format("\(path): invalid safetensors header JSON: \(error)")
        }
        guard let object = header.objectValue else { throw .format("\(path): safetensors header is not a JSON object") }
        let dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart
        var entries: [String: SafetensorsEntry] = [:]
        for (name, value) in object.orderedPairs where name != "__metadata__" {
            guard let dtypeName = value["dtype"]?.stringValue,
                  let shapeValues = value["shape"]?.arrayValue,
                  let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
                  let begin = offsets[0].intValue, let end = offsets[1].intValue
            else { throw .format("\(path): tensor \(name) has a malformed header entry") }
            guard let dtype = StoredDType(rawValue: dtypeName) else {
                throw .unsupported("\(path): tensor \(name) has dtype \(dtypeName); supported: F32, F16, BF16")
            }
            var shape: [Int] = []
            for dimension in shapeValues {
                guard let d = dimension.intValue, d >= 0, d < 1 << 40 else { throw .format("\(path): tensor \(name) has an invalid shape") }
                shape.append(d)
            }
            // The byte count is computed with overflow checks: a shape whose size wraps around
            // must not pass for a small tensor.
            let (byteCount, overflow) = shape.reduce((dtype.byteWidth, false)) { acc, d in
                let r = acc.0.multipliedReportingOverflow(by: d)
                return (r.partialValue, acc.1 || r.overflow)
            }
            guard !overflow, begin >= 0, end >= begin, end - begin == byteCount else {
                throw .format("\(path): tensor \(name) offsets [\(begin), \(end)) do not match its shape \(shape) and dtype \(dtypeName)")
            }
            guard end <= dataSize else {
                throw .format("\(path): truncated safetensors file: tensor \(name) ends at byte \(end) of a \(dataSize)-byte data section")
            }
            let data = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + begin)..<(dataStart + end)])
            entries[name] = SafetensorsEntry(name: name, dtype: dtype, shape: shape, data: data, file: file)
        }
        self.entries = entries
    }
}
