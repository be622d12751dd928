#if canImport(Glibc)
import Glibc
#endif
import CSpecDecKernels
import CSpecDecShims
import SpecDecJSON

/// An fp32 matrix (or vector) the kernels read: `rows × columns`, row-major.
/// It points either into a mapped file or into memory the store owns.
public struct Matrix: @unchecked Sendable {
    public let pointer: UnsafePointer<Float>
    public let rows: Int
    public let columns: Int
    public var count: Int { rows * columns }

    public init(pointer: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.pointer = pointer
        self.rows = rows
        self.columns = columns
    }

    public subscript(row: Int) -> UnsafePointer<Float> { pointer + row * columns }
}

/// The tensors of a model directory: one model.safetensors, or the shards listed by
/// model.safetensors.index.json. Hands out fp32 matrices (norms, embeddings, biases;
/// fp16/bf16 widened once) and projection weights in the precision the load asked for.
public final class WeightStore: @unchecked Sendable {
    public let directory: String
    /// What projection weights are computed in, and on which kernel path (resolved).
    public let precision: WeightPrecision
    public let kernelPath: KernelPath
    private var entries: [String: SafetensorsEntry] = [:]
    private var files: [SafetensorsFile] = []
    private var owned: [UnsafeMutableBufferPointer<Float>] = []
    private var ownedPanels: [UnsafeMutableRawPointer] = []
    public private(set) var parameterCount = 0
    /// Bytes of projection weights one forward pass over every layer streams.
    public private(set) var projectionBytes = 0

    public convenience init(directory: String, useMmap: Bool = true) throws(SpecDecError) {
        try self.init(directory: directory, options: LoadOptions(useMmap: useMmap))
    }

    public init(directory: String, options: LoadOptions) throws(SpecDecError) {
        self.directory = directory
        precision = options.precision
        kernelPath = try KernelPath.resolve(options.kernelPath)
        let useMmap = options.useMmap
        let single = FileSystem.join(directory, "model.safetensors")
        let index = FileSystem.join(directory, "model.safetensors.index.json")
        if FileSystem.exists(single) {
            try add(SafetensorsFile(path: single, useMmap: useMmap))
        } else if FileSystem.exists(index) {
            let json: JSONValue
            do { json = try JSONParser.parse(try MappedFile.readAll(index)) } catch let error as JSONParseError {
                throw .format("\(index): invalid JSON: \(error)")
            } catch let error as SpecDecError { throw error } catch { throw .internal("\(error)") }
            guard let map = json["weight_map"]?.objectValue else { throw .format("\(index): no \"weight_map\" object") }
            var shardNames: [String] = []
            for (_, value) in map.orderedPairs {
                guard let shard = value.stringValue, !shard.contains("/") else { throw .format("\(index): invalid shard name in weight_map") }
                if !shardNames.contains(shard) { shardNames.append(shard) }
            }
            for shard in shardNames { try add(SafetensorsFile(path: FileSystem.join(directory, shard), useMmap: useMmap)) }
        } else {
            throw .io("\(directory): neither model.safetensors nor model.safetensors.index.json found")
        }
    }

    deinit {
        for buffer in owned { buffer.deallocate() }
        for panels in ownedPanels { free(panels) }
    }

    private func add(_ file: SafetensorsFile) throws(SpecDecError) {
        files.append(file)
        for (name, entry) in file.entries {
            if entries[name] != nil { throw .format("tensor \(name) appears in more than one shard") }
            entries[name] = entry
        }
    }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The first of `names` that exists (checkpoints differ in prefixes).
    public func firstPresent(_ names: [String]) -> String? { names.first { entries[$0] != nil } }

    /// Whether two stored tensors have the same dtype, shape and bytes.
    public func storesSameBytes(_ a: String, _ b: String) -> Bool {
        guard let x = entries[a], let y = entries[b], x.dtype == y.dtype, x.shape == y.shape, x.data.count == y.data.count else { return false }
        return x.data.count == 0 || memcmp(x.data.baseAddress!, y.data.baseAddress!, x.data.count) == 0
    }

    /// A tensor as an fp32 matrix of the given shape. A 1-D `[n]` tensor is asked for as
    /// `rows: 1, columns: n`. `transposed` reads a stored `[columns, rows]` tensor (GPT-2's Conv1D).
    public func matrix(_ name: String, rows: Int, columns: Int, transposed: Bool = false) throws(SpecDecError) -> Matrix {
        guard let entry = entries[name] else { throw .shape("missing tensor \(name) in \(directory)") }
        let expected = transposed ? [columns, rows] : (rows == 1 ? [columns] : [rows, columns])
        let matches = entry.shape == expected || (rows == 1 && entry.shape == [1, columns])
        guard matches else {
            throw .shape("tensor \(name) has shape \(entry.shape), expected \(expected)")
        }
        parameterCount += entry.elementCount
        if entry.dtype == .f32, !transposed, Int(bitPattern: entry.data.baseAddress) % 4 == 0 {
            return Matrix(pointer: entry.data.baseAddress!.assumingMemoryBound(to: Float.self), rows: rows, columns: columns)
        }
        let count = rows * columns
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        owned.append(buffer)
        let source = entry.data.baseAddress!
        switch entry.dtype {
        case .f32: UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: count * 4)
        case .f16: specdec_convert_f16_to_f32(source.assumingMemoryBound(to: UInt16.self), buffer.baseAddress!, count)
        case .bf16: specdec_convert_bf16_to_f32(source.assumingMemoryBound(to: UInt16.self), buffer.baseAddress!, count)
        }
        if transposed {
            let transposedBuffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
            owned.append(transposedBuffer)
            for r in 0..<rows { for c in 0..<columns { transposedBuffer[r * columns + c] = buffer[c * rows + r] } }
            return Matrix(pointer: UnsafePointer(transposedBuffer.baseAddress!), rows: rows, columns: columns)
        }
        return Matrix(pointer: UnsafePointer(buffer.baseAddress!), rows: rows, columns: columns)
    }

    public func vector(_ name: String, count: Int) throws(SpecDecError) -> Matrix {
        try matrix(name, rows: 1, columns: count)
    }

    /// A projection weight `[rows, columns]` (`transposed`: stored `[columns, rows]`) in
    /// the store's precision. `countParameters: false` for a tensor already counted (a
    /// tied output projection reads the embedding table again).
    public func linear(_ name: String, rows: Int, columns: Int, transposed: Bool = false,
                       countParameters: Bool = true) throws(SpecDecError) -> LinearWeight {
        guard let entry = entries[name] else { throw .shape("missing tensor \(name) in \(directory)") }
        let layout: LinearWeight.Layout
        switch (precision, entry.dtype) {
        case (.fp32, _), (.auto, .f32): layout = .f32Panels
        case (.auto, .f16): layout = .f16Pairs
        case (.auto, .bf16): layout = .bf16Pairs
        case (.bf16, _): layout = .bf16
        case (.int8, _): layout = .int8
        }
        let expected = transposed ? [columns, rows] : [rows, columns]
        guard entry.shape == expected else { throw .shape("tensor \(name) has shape \(entry.shape), expected \(expected)") }
        if countParameters { parameterCount += entry.elementCount }
        let sourceType: Int32
        switch entry.dtype {
        case .f32: sourceType = SPECDEC_SOURCE_F32
        case .f16: sourceType = SPECDEC_SOURCE_F16
        case .bf16: sourceType = SPECDEC_SOURCE_BF16
        }
        let memory = try allocatePanels(LinearWeight.packedBytes(rows: rows, columns: columns, layout: layout))
        let weight = LinearWeight.pack(UnsafeRawPointer(entry.data.baseAddress!), sourceType: sourceType, transposed: transposed,
                                       rows: rows, columns: columns, layout: layout, path: kernelPath, into: memory)
        projectionBytes += weight.streamedBytes
        return weight
    }

    /// The output projection of a model whose output is tied to `embedding` (tensor `name`):
    /// a packed copy in the store's precision (the table itself when it is no stored tensor).
    public func tiedLinear(_ name: String, embedding: Matrix) throws(SpecDecError) -> LinearWeight {
        let stored = entries[name]?.dtype
        if stored == nil {
            projectionBytes += embedding.count * 4
            return LinearWeight(matrix: embedding)
        }
        return try linear(name, rows: embedding.rows, columns: embedding.columns, countParameters: false)
    }

    private func allocatePanels(_ bytes: Int) throws(SpecDecError) -> UnsafeMutableRawPointer {
        // posix_memalign rather than allocate(byteCount:): a failed allocation is a status.
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(bytes, 64)) == 0, let raw else {
            throw .init(.outOfMemory, "\(directory): cannot allocate \(bytes) bytes for packed weights")
        }
        ownedPanels.append(raw)
        return raw
    }
}

extension SpecDecError {
    static func `internal`(_ m: String) -> SpecDecError { .init(.internal, m) }
}
