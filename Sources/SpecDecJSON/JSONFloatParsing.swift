/// How a JSON parser turns a number with a fraction or exponent into a Double.
public enum JSONFloatParsing: Sendable {
    /// The nearest Double (strtod), what most readers do.
    case correctlyRounded
    /// What Rust's serde_json does without its `float_roundtrip` feature, the reader behind
    /// tokenizer.json in the `tokenizers` package: up to 19 significant digits gathered in a
    /// UInt64 (later digits dropped), converted to Double, then multiplied or divided by one
    /// power of ten. That can land one unit in the last place away from the nearest Double,
    /// and Unigram segmentation compares sums of such scores, so ties break as the
    /// reference's do only when the scores are read the same way.
    case serdeJSONDefault
}

enum SerdeJSONFloat {
    /// 1e0 ... 1e308, each the nearest Double to the power of ten.
    static let powersOfTen: [Double] = (0...308).map { Double("1e\($0)")! }

    /// `text` is a valid JSON number with a fraction or an exponent.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative { i += 1 }
        var significand: UInt64 = 0
        var exponent = 0
        var overflowed = false
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        // Integer digits: once the significand would overflow, each further digit scales by 10.
        while i < text.count, isDigit(text[i]) {
            let digit = UInt64(text[i] - UInt8(ascii: "0"))
            if overflowed || significand > UInt64.max / 10 || (significand == UInt64.max / 10 && digit > UInt64.max % 10) {
                overflowed = true
                exponent += 1
            } else {
                significand = significand * 10 + digit
            }
            i += 1
        }
        if i < text.count, text[i] == UInt8(ascii: ".") {
            i += 1
            // Fraction digits past the overflow point are dropped.
            while i < text.count, isDigit(text[i]) {
                let digit = UInt64(text[i] - UInt8(ascii: "0"))
                if overflowed || significand > UInt64.max / 10 || (significand == UInt64.max / 10 && digit > UInt64.max % 10) {
                    overflowed = true
                } else {
                    significand = significand * 10 + digit
                    exponent -= 1
                }
                i += 1
            }
        }
        if i < text.count, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            var positive = true
            if text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                positive = text[i] == UInt8(ascii: "+")
                i += 1
            }
            var value = 0
            while i < text.count, isDigit(text[i]) {
                let digit = Int(text[i] - UInt8(ascii: "0"))
                if value > (Int(Int32.max) - digit) / 10 {
                    // An exponent beyond Int32: zero or infinity, as the reference decides.
                    if significand == 0 || !positive { return negative ? -0.0 : 0.0 }
                    return nil
                }
                value = value * 10 + digit
                i += 1
            }
            exponent += positive ? value : -value
        }
        var f = Double(significand)
        while true {
            if exponent.magnitude < powersOfTen.count {
                if exponent >= 0 {
                    f *= powersOfTen[exponent]
                    if f.isInfinite { return nil }
                } else {
                    f /= powersOfTen[-exponent]
                }
                break
            }
            if f == 0 { break }
            if exponent >= 0 { return nil }
            f /= 1e308
            exponent += 308
        }
        return negative ? -f : f
    }
}
