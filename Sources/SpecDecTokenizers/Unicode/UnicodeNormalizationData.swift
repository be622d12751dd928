/// NormalizationTables parsed into lookups, once per process (a `static let` is initialised
/// lazily and thread-safely). Decompositions are expanded to their full depth here, so
/// normalizing a character is one dictionary lookup.
final class UnicodeNormalizationData: Sendable {
    static let shared = UnicodeNormalizationData()

    let combiningClass: [UInt32: UInt8]
    /// Full canonical decomposition (NFD) of every character that has one.
    let canonical: [UInt32: [UInt32]]
    /// Full compatibility decomposition (NFKD) of every character that has one.
    let compatibility: [UInt32: [UInt32]]
    /// (first << 21 | second) → primary composite, for canonical pairs that compose.
    let composition: [UInt64: UInt32]

    private init() {
        var classes: [UInt32: UInt8] = [:]
        for line in NormalizationTables.combiningClasses.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let first = UInt32(fields[0], radix: 16), let last = UInt32(fields[1], radix: 16),
                  let value = UInt8(fields[2]) else { preconditionFailure("bad combining-class line \(line)") }
            for c in first...last { classes[c] = value }
        }

        var oneLevel: [UInt32: (compatibility: Bool, mapping: [UInt32])] = [:]
        var pairs: [UInt64: UInt32] = [:]
        for line in NormalizationTables.decompositions.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, let code = UInt32(fields[0], radix: 16) else { preconditionFailure("bad decomposition line \(line)") }
            let mapping = fields.dropFirst(2).map { UInt32($0, radix: 16)! }
            oneLevel[code] = (fields[1] == "K", mapping)
            if fields[1] == "C", mapping.count == 2 {
                pairs[UInt64(mapping[0]) << 21 | UInt64(mapping[1])] = code
            }
        }

        func expand(_ c: UInt32, compatibility: Bool, into out: inout [UInt32]) {
            if let entry = oneLevel[c], compatibility || !entry.compatibility {
                for m in entry.mapping { expand(m, compatibility: compatibility, into: &out) }
            } else {
                out.append(c)
            }
        }
        var canonical: [UInt32: [UInt32]] = [:]
        var compatibility: [UInt32: [UInt32]] = [:]
        for c in oneLevel.keys {
            var full: [UInt32] = []
            expand(c, compatibility: false, into: &full)
            if full != [c] { canonical[c] = full }
            full.removeAll()
            expand(c, compatibility: true, into: &full)
            if full != [c] { compatibility[c] = full }
        }
        self.combiningClass = classes
        self.canonical = canonical
        self.compatibility = compatibility
        self.composition = pairs
    }
}
