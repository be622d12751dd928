/// The weight of one projection (y = x · Wᵀ), in the layout its precision needs. The
/// memory belongs to the WeightStore that made it (or to the caller for `init(matrix:)`).
public struct LinearWeight: @unchecked Sendable {
    public enum Layout: Sendable, Equatable {
        case f32          // row-major fp32 (Swift kernels, compiled for the build's CPU)
        case f32Panels    // fp32 in the 16-row panel layout (C kernels, path chosen at run time)
        case f16Pairs     // f16 in the 16-row pair layout, fp32 activations
        case bf16Pairs    // bf16 in the 16-row pair layout, fp32 activations
        case bf16         // bf16 pair layout, bf16 activations
        case int8         // int8 quad layout with per-row scales, int8 activations
    }

    public let rows: Int
    public let columns: Int
    public let layout: Layout
    /// The resolved kernel path (never `.auto`).
    public let path: KernelPath
    /// `.f32` only.
    public let matrix: Matrix?
    /// Packed layouts: 64-byte aligned panels (see CSpecDecKernels.h).
    let panels: UnsafeRawPointer?
    /// Columns rounded up to the layout's chunk (32 for 16-bit, 64 for int8).
    public let paddedColumns: Int
    let scales: UnsafePointer<Float>?
    let rowSums: UnsafePointer<Int32>?

    public init(matrix: Matrix) {
        rows = matrix.rows
        columns = matrix.columns
        layout = .f32
        path = .avx512
        self.matrix = matrix
        panels = nil
        paddedColumns = matrix.columns
        scales = nil
        rowSums = nil
    }

    init(rows: Int, columns: Int, layout: Layout, path: KernelPath, panels: UnsafeRawPointer, paddedColumns: Int,
         scales: UnsafePointer<Float>? = nil, rowSums: UnsafePointer<Int32>? = nil) {
        self.rows = rows
        self.columns = columns
        self.layout = layout
        self.path = path
        matrix = nil
        self.panels = panels
        self.paddedColumns = paddedColumns
        self.scales = scales
        self.rowSums = rowSums
    }

    /// 16-row blocks of the packed layouts.
    var blocks: Int { (rows + 15) / 16 }

    /// Bytes a pass over this weight reads from memory (the roofline's numerator).
    public var streamedBytes: Int {
        switch layout {
        case .f32: rows * columns * 4
        case .f32Panels: blocks * 16 * paddedColumns * 4
        case .f16Pairs, .bf16Pairs, .bf16: blocks * 16 * paddedColumns * 2
        case .int8: blocks * 16 * (paddedColumns + 8)
        }
    }

    static func paddedColumns(_ columns: Int, for layout: Layout) -> Int {
        let chunk = layout == .int8 ? 64 : 32
        return (columns + chunk - 1) / chunk * chunk
    }
}
