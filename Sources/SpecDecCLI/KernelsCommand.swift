import ArgumentParser
import SpecDecCore
import SpecDecJSON

/// The projection kernels on their own, per path: one position streaming weights that
/// do not fit in cache (GB/s: the memory-bound decode step), and `--tokens` positions on
/// weights that do (GFLOP/s: the arithmetic peak a multi-position pass can reach).
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels", abstract: "Measure each kernel path's streaming rate and multi-position peak.")

    @Option(help: "Positions of the multi-position measurement.") var tokens: Int = 16
    @Option(name: .customLong("stream-mb"), help: "Weight size of the streaming measurement, in MB of fp32.") var streamMegabytes: Int = 256
    @Option(help: "Weight shape of the multi-position measurement, ROWSxCOLUMNS.") var shape: String = "512x512"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let layouts: [(String, LinearWeight.Layout)] = [("fp32", .f32Panels), ("bf16", .bf16), ("int8", .int8),
                                                        ("f16_fp32_activations", .f16Pairs)]
        let dimensions = shape.split(separator: "x").compactMap { Int($0) }
        guard dimensions.count == 2, dimensions.allSatisfy({ $0 >= 1 && $0 <= 65536 }) else {
            throw ValidationError("--shape must be ROWSxCOLUMNS, e.g. 512x512")
        }
        let (shapeRows, shapeColumns) = (dimensions[0], dimensions[1])
        let streamRows = max(16, streamMegabytes * (1 << 20) / 4 / 4096)
        var rows: [JSONValue] = []
        // The row-major Swift SIMD kernel (compiled for the build's target; used by weights
        // a caller hands over as a plain matrix): one row.
        let measured = KernelPath.supported.flatMap { path in layouts.map { (path.description, $0.0, $0.1, path) } }
            + [("simd", "fp32", LinearWeight.Layout.f32, KernelPath.supported.last!)]
        for (pathName, name, layout, path) in measured {
            do {
                let stream = KernelBenchmark.measure(layout: layout, path: path, rows: streamRows, columns: 4096, tokens: 1)
                let peak = KernelBenchmark.measure(layout: layout, path: path, rows: shapeRows, columns: shapeColumns, tokens: tokens)
                let one = KernelBenchmark.measure(layout: layout, path: path, rows: shapeRows, columns: shapeColumns, tokens: 1)
                rows.append(.object(JSONObject([
                    ("path", .string(pathName)), ("weights", .string(name)),
                    ("stream_gb_per_s", .double(stream.gigabytesPerSecond)),
                    ("cached_gemv_us", .double(one.seconds * 1e6)),
                    ("cached_multi_us", .double(peak.seconds * 1e6)),
                    ("multi_over_one", .double(peak.seconds / one.seconds)),
                    ("multi_gflops", .double(peak.gflops)),
                ])))
                if !json {
                    print("\(pathName.padding(12)) \(name.padding(22)) stream \(format1(stream.gigabytesPerSecond)) GB/s; "
                          + "\(shape): 1 position \(format1(one.seconds * 1e6)) us, \(tokens) positions \(format1(peak.seconds * 1e6)) us "
                          + "(\(format1(peak.seconds / one.seconds))x, \(format1(peak.gflops)) GFLOP/s)")
                }
            }
        }
        if json {
            print(JSONValue.object(JSONObject([("tokens", .integer(Int64(tokens))), ("results", .array(rows))])).serialized)
        }
    }
}

private func format1(_ x: Double) -> String {
    let scaled = (x * 10).rounded() / 10
    return "\(scaled)"
}

private extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
