import ArgumentParser
import SpecDecCore
import SpecDecJSON
#if canImport(Glibc)
import Glibc
#endif

/// Options every model-running subcommand shares.
struct ModelOptions: ParsableArguments {
    @Option(help: "Hugging Face model directory (config.json + *.safetensors).")
    var model: String

    @Option(help: "Compute threads (0 = one per CPU).")
    var threads: Int = 0

    @Option(name: .customLong("kv-capacity"), help: "KV cache capacity in tokens (0 = the model's context length).")
    var kvCapacity: Int = 0

    @OptionGroup var precision: PrecisionOptions
}

/// Weight precision and kernel path, for every command that loads a model.
struct PrecisionOptions: ParsableArguments {
    @Option(help: "Weight precision: auto (as stored), fp32, bf16 or int8.")
    var weights: String = "auto"

    @Option(help: "Kernel path: auto, portable, avx2, avx512, avx512_bf16 or amx (default: SPECDEC_KERNEL_PATH, else the fastest).")
    var kernels: String = "auto"

    func loadOptions() throws(SpecDecError) -> LoadOptions {
        guard let precision = WeightPrecision(name: weights) else {
            throw .invalidArgument("--weights \(weights) is not a weight precision (one of: auto, fp32, bf16, int8)")
        }
        guard let path = KernelPath(name: kernels) else {
            let names = KernelPath.allCases.map(\.description).joined(separator: ", ")
            throw .invalidArgument("--kernels \(kernels) is not a kernel path (one of: \(names))")
        }
        return LoadOptions(precision: precision, kernelPath: path)
    }
}

/// The precision, path and weight bytes a load ended up with, for `info` and `bench`.
func weightFields(_ weights: WeightStore) -> [(String, JSONValue)] {
    [("weights", .string(weights.precision.description)), ("kernel_path", .string(weights.kernelPath.description)),
     ("projection_bytes", .integer(Int64(weights.projectionBytes)))]
}

/// Parses "1,2,3" into token ids.
func parseIds(_ text: String, flag: String) throws -> [Int32] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: true)
    var ids: [Int32] = []
    for part in parts {
        guard let id = Int32(part.trimmingSpaces) else { throw ValidationError("\(flag): '\(part)' is not a token id") }
        ids.append(id)
    }
    guard !ids.isEmpty else { throw ValidationError("\(flag) needs at least one id") }
    return ids
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Reports an engine error: a JSON object on stdout with --json, text on stderr otherwise.
func report(_ error: SpecDecError, json: Bool) -> ExitCode {
    if json {
        let object = JSONObject([("error", .object(JSONObject([
            ("status", .integer(Int64(error.kind.rawValue))), ("message", .string(error.message))])))])
        print(JSONValue.object(object).serialized)
    } else {
        var line = "error: \(error.message)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
    return ExitCode(1)
}

func idsJSON(_ ids: [Int32]) -> JSONValue { .array(ids.map { .integer(Int64($0)) }) }
