/// Lookups in LegacyCategoryTables (sorted inclusive ranges, binary search).
enum LegacyCategories {
    static func contains(_ table: [UInt32], _ scalar: UInt32) -> Bool {
        var low = 0
        var high = table.count / 2
        while low < high {
            let mid = (low + high) / 2
            if table[2 * mid + 1] < scalar { low = mid + 1 } else { high = mid }
        }
        return low < table.count / 2 && table[2 * low] <= scalar
    }

    /// `char::is_ascii_punctuation() || is_punctuation()` as the reference evaluates it.
    static func isPunctuation(_ scalar: UInt32) -> Bool { contains(LegacyCategoryTables.punctuation, scalar) }

    /// `is_other()` (control, format, private use) as the reference evaluates it.
    static func isOther(_ scalar: UInt32) -> Bool { contains(LegacyCategoryTables.other, scalar) }

    /// `is_mark_nonspacing()` (Mn) as the reference evaluates it: BertNormalizer's accents.
    static func isNonspacingMark(_ scalar: UInt32) -> Bool { contains(LegacyCategoryTables.nonspacingMark, scalar) }

    /// unicode-normalization's `is_combining_mark()` (M*) as the reference evaluates it.
    static func isCombiningMark(_ scalar: UInt32) -> Bool { contains(LegacyCategoryTables.combiningMark, scalar) }
}
