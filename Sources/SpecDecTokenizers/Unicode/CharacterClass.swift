/// Unicode properties that pre-tokenizer patterns ask about, packed in one byte per scalar.
/// The Basic Multilingual Plane is tabulated once (64 KiB) because the general-category
/// lookups of the standard library cost a binary search each; astral scalars, which are
/// rare in text, are classified on the fly.
struct CharacterClass: OptionSet, Sendable {
    let rawValue: UInt8

    /// General category L* (`\p{L}`).
    static let letter = CharacterClass(rawValue: 1)
    /// General category N* (`\p{N}`, Rust's `char::is_numeric`).
    static let number = CharacterClass(rawValue: 2)
    /// The White_Space property (`\s`, Rust's `char::is_whitespace`).
    static let whitespace = CharacterClass(rawValue: 4)
    /// General category P* (`\p{P}`).
    static let punctuation = CharacterClass(rawValue: 8)
    /// Rust regex `\w`: Alphabetic, M*, Nd, Pc, Join_Control.
    static let word = CharacterClass(rawValue: 16)
    /// General category M*.
    static let mark = CharacterClass(rawValue: 32)
    /// General category Nd (`\d`).
    static let decimalDigit = CharacterClass(rawValue: 64)
    /// General category S* (symbols), used by the BERT pre-tokenizer's ASCII punctuation rule.
    static let symbol = CharacterClass(rawValue: 128)

    @inline(__always)
    static func of(_ scalar: UInt32) -> CharacterClass {
        if scalar < 0x10000 {
            return CharacterClass(rawValue: CharacterClassTable.bmp[Int(scalar)])
        }
        return compute(scalar)
    }

    /// The Unicode version the reference implementations classify by (Oniguruma 6.9.10 and
    /// Rust's tables in tokenizers 0.23 use 16.0). Characters assigned later are treated as
    /// unassigned, as the reference sees them; the standard library may know a newer version.
    static let referenceUnicodeVersion = (major: 16, minor: 0)

    static func compute(_ value: UInt32) -> CharacterClass {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        let properties = scalar.properties
        if let age = properties.age,
           (age.major, age.minor) > (referenceUnicodeVersion.major, referenceUnicodeVersion.minor) {
            return []
        }
        var result: CharacterClass = []
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber:
            result.insert([.number, .decimalDigit, .word])
        case .letterNumber, .otherNumber:
            result.insert(.number)
        case .connectorPunctuation:
            result.insert([.punctuation, .word])
        case .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result.insert([.mark, .word])
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            result.insert(.symbol)
        default:
            break
        }
        if properties.isWhitespace { result.insert(.whitespace) }
        if properties.isAlphabetic || properties.isJoinControl { result.insert(.word) }
        return result
    }
}

enum CharacterClassTable {
    static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for value in 0..<0x10000 where !(0xD800..<0xE000).contains(value) {
            table[value] = CharacterClass.compute(UInt32(value)).rawValue
        }
        return table
    }()
}
