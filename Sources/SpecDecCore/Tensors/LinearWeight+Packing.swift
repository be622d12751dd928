import CSpecDecKernels

/// Packing a weight into its layout: the one place that knows how a packed buffer is laid
/// out (codes, then for int8 the per-row scales and sums of codes). The caller owns the memory.
extension LinearWeight {
    /// Bytes `pack` writes for a rows × columns weight in `layout` (not `.f32`).
    static func packedBytes(rows: Int, columns: Int, layout: Layout) -> Int {
        let kp = paddedColumns(columns, for: layout), paddedRows = (rows + 15) / 16 * 16
        switch layout {
        case .int8: return paddedRows * kp + paddedRows * 8
        case .f32Panels: return paddedRows * kp * 4
        default: return paddedRows * kp * 2
        }
    }

    /// Packs a rows × columns `source` (row-major, or `[columns, rows]` when `transposed`;
    /// `sourceType` a SPECDEC_SOURCE_* value) into `memory`, 64-byte aligned and
    /// `packedBytes` long, and returns the weight that reads it on `path`.
    static func pack(_ source: UnsafeRawPointer, sourceType: Int32, transposed: Bool, rows: Int, columns: Int,
                     layout: Layout, path: KernelPath, into memory: UnsafeMutableRawPointer) -> LinearWeight {
        let kp = paddedColumns(columns, for: layout), paddedRows = (rows + 15) / 16 * 16
        let flip: Int32 = transposed ? 1 : 0
        if layout == .f32Panels {
            specdec_pack32(source, sourceType, flip, Int64(rows), Int64(columns), Int64(kp), memory.assumingMemoryBound(to: Float.self))
            return LinearWeight(rows: rows, columns: columns, layout: layout, path: path, panels: UnsafeRawPointer(memory),
                                paddedColumns: kp)
        }
        guard layout == .int8 else {
            specdec_pack16(source, sourceType, flip, Int64(rows), Int64(columns), Int64(kp), layout == .f16Pairs ? 0 : 1,
                           memory.assumingMemoryBound(to: UInt16.self))
            return LinearWeight(rows: rows, columns: columns, layout: layout, path: path, panels: UnsafeRawPointer(memory),
                                paddedColumns: kp)
        }
        let codeBytes = paddedRows * kp
        let scales = (memory + codeBytes).assumingMemoryBound(to: Float.self)
        let sums = (memory + codeBytes + paddedRows * 4).assumingMemoryBound(to: Int32.self)
        specdec_pack_int8(source, sourceType, flip, Int64(rows), Int64(columns), Int64(kp),
                          memory.assumingMemoryBound(to: Int8.self), scales, sums)
        return LinearWeight(rows: rows, columns: columns, layout: .int8, path: path, panels: UnsafeRawPointer(memory),
                            paddedColumns: kp, scales: UnsafePointer(scales), rowSums: UnsafePointer(sums))
    }
}
