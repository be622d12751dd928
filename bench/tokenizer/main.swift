// Encodes a corpus with SpecDecTokenizers and reports throughput; bench_tokenizer.py runs
// it next to the reference packages. Usage:
//   TokenizerBench <corpus.jsonl> <runs> <name>=<tokenizer path> ...
// Prints one line per tokenizer: "<name> <median MB/s> <ids> <checksum>".
import Glibc
import SpecDecJSON
import SpecDecTokenizers

/// Process CPU time: on a shared machine it is far steadier than wall time, and the
/// reference side is measured the same way.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func readLines(_ path: String) -> [String] {
    guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return bytes.split(separator: 0x0A).map { line in
        (try? JSONParser.parse(Array(line)))?.stringValue ?? ""
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let runs = Int(arguments[2]) else {
    print("usage: TokenizerBench <corpus.jsonl> <runs> <name>=<path> ...")
    exit(2)
}
let corpus = readLines(arguments[1])
let totalBytes = corpus.reduce(0) { $0 + $1.utf8.count }
for spec in arguments[3...] {
    let parts = spec.split(separator: "=", maxSplits: 1)
    guard parts.count == 2 else { continue }
    let name = String(parts[0])
    let tokenizer: any Tokenizer
    do {
        let path = String(parts[1])
        if path.hasSuffix(".model") {
            // sentencepiece's encode() adds no BOS; compare like with like.
            tokenizer = try SentencePieceTokenizer.load(path: path, addBOS: false)
        } else {
            tokenizer = try TokenizerLoader.load(path: path)
        }
    } catch {
        print("\(name) error \(error)")
        continue
    }
    // One untimed pass: first-use tables (character classes) and the allocator warm up.
    for line in corpus { _ = tokenizer.encode(line, addSpecialTokens: false) }
    var times: [Double] = []
    var count = 0
    var checksum: Int64 = 0
    for _ in 0..<runs {
        count = 0
        checksum = 0
        let start = now()
        for line in corpus {
            let ids = tokenizer.encode(line, addSpecialTokens: false)
            count += ids.count
            for id in ids { checksum = checksum &* 31 &+ Int64(id) }
        }
        times.append(now() - start)
    }
    times.sort()
    let median = times[times.count / 2]
    print("\(name) \(Double(totalBytes) / median / 1e6) \(count) \(checksum)")
}
