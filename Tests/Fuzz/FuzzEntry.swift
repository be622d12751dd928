#if canImport(Glibc)
import Glibc
#endif

/// Built with -DFUZZING and -sanitize=fuzzer (scripts/fuzz.sh), this is a libFuzzer target
/// chosen by SPECDEC_FUZZ_TARGET; built normally, it replays inputs (a crash found by the
/// fuzzer, a regression file) through the same target, `specdec-fuzz TARGET FILE...`, and
/// `specdec-fuzz --seeds TARGET` lists the fixture files that seed its corpus.
enum FuzzSetup {
    nonisolated(unsafe) static var target: FuzzTarget = .json
    nonisolated(unsafe) static var workspace: FuzzWorkspace!

    static func start(target name: String) -> Bool {
        guard let chosen = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            printError("unknown fuzz target '\(name)' (one of: \(names))")
            return false
        }
        target = chosen
        let repository = getenv("SPECDEC_REPO_ROOT").map { String(cString: $0) } ?? "."
        workspace = FuzzWorkspace(repository: repository)
        return true
    }
}

func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

#if FUZZING
/// libFuzzer's driver, from its runtime; it parses libFuzzer's flags and calls `callback`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
struct FuzzMain {
    static func main() {
        let name = getenv("SPECDEC_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        if !FuzzSetup.start(target: name) { exit(2) }
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzSetup.target.run(UnsafeBufferPointer(start: data, count: size), workspace: FuzzSetup.workspace)
            return 0
        })
    }
}
#else
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == "--seeds" {
            guard let target = FuzzTarget(rawValue: arguments[2]) else { exit(2) }
            for seed in target.seeds { print(seed) }
            return
        }
        guard arguments.count >= 3, FuzzSetup.start(target: arguments[1]) else {
            printError("usage: specdec-fuzz TARGET FILE... | specdec-fuzz --seeds TARGET")
            exit(2)
        }
        for path in arguments.dropFirst(2) {
            guard let file = fopen(path, "rb") else { printError("cannot read \(path)"); exit(1) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n <= 0 { break }
                bytes.append(contentsOf: chunk[0..<n])
            }
            fclose(file)
            bytes.withUnsafeBufferPointer { FuzzSetup.target.run($0, workspace: FuzzSetup.workspace) }
            print("ok \(path)")
        }
    }
}
#endif
