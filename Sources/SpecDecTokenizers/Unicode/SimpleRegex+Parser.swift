extension SimpleRegex {
    struct Parser {
        let scalars: [UInt32]
        let pattern: String
        var index = 0
        var nodes: [Node] = []
        var caseInsensitive = false

        init(scalars: [UInt32], pattern: String) {
            self.scalars = scalars
            self.pattern = pattern
        }

        func fail(_ message: String) -> TokenizerError {
            TokenizerError.unsupported("regex \(pattern): \(message)")
        }

        mutating func add(_ node: Node) -> Int {
            nodes.append(node)
            return nodes.count - 1
        }

        var atEnd: Bool { index >= scalars.count }

        func peek(_ offset: Int = 0) -> UInt32? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }

        mutating func parseAlternation() throws(TokenizerError) -> Int {
            var options = [try parseSequence()]
            while peek() == 0x7C {  // |
                index += 1
                options.append(try parseSequence())
            }
            return options.count == 1 ? options[0] : add(.alternation(options))
        }

        mutating func parseSequence() throws(TokenizerError) -> Int {
            var items: [Int] = []
            while let c = peek(), c != 0x7C, c != 0x29 {  // | )
                let atom = try parseAtom()
                items.append(try parseQuantifier(atom))
            }
            if items.isEmpty { return add(.empty) }
            return items.count == 1 ? items[0] : add(.sequence(items))
        }

        mutating func parseQuantifier(_ atom: Int) throws(TokenizerError) -> Int {
            var result = atom
            while let c = peek() {
                var min = 0
                var max = -1
                switch c {
                case 0x2A: index += 1  // *
                case 0x2B: index += 1; min = 1  // +
                case 0x3F: index += 1; max = 1  // ?
                case 0x7B:  // {
                    guard let (lo, hi, length) = parseBraces() else { return result }
                    index += length
                    min = lo
                    max = hi
                default:
                    return result
                }
                var greedy = true
                if peek() == 0x3F { greedy = false; index += 1 }
                else if peek() == 0x2B { throw fail("possessive quantifiers are not supported") }
                result = add(.repeatNode(result, min: min, max: max, greedy: greedy))
            }
            return result
        }

        /// Parses `{n}`, `{n,}`, `{n,m}` at the current index; nil when it is a literal brace.
        func parseBraces() -> (Int, Int, Int)? {
            var i = index + 1
            func number() -> Int? {
                var value: Int?
                while i < scalars.count, scalars[i] >= 0x30, scalars[i] <= 0x39 {
                    let next = (value ?? 0) * 10 + Int(scalars[i] - 0x30)
                    if next > 100_000 { return nil }
                    value = next
                    i += 1
                }
                return value
            }
            guard let low = number() else { return nil }
            var high = low
            if i < scalars.count, scalars[i] == 0x2C {
                i += 1
                high = number() ?? -1
            }
            guard i < scalars.count, scalars[i] == 0x7D else { return nil }
            if high >= 0, high < low { return nil }
            return (low, high, i + 1 - index)
        }

        mutating func parseAtom() throws(TokenizerError) -> Int {
            guard let c = peek() else { throw fail("unexpected end") }
            switch c {
            case 0x28:  // (
                index += 1
                var inner: Int
                if peek() == 0x3F {  // ?
                    index += 1
                    switch peek() {
                    case 0x3A:  // (?:
                        index += 1
                        inner = try parseAlternation()
                    case 0x3D, 0x21:  // (?= (?!
                        let negative = peek() == 0x21
                        index += 1
                        let child = try parseAlternation()
                        inner = add(.lookahead(child, negative: negative))
                    case 0x69:  // (?i: or (?i)
                        index += 1
                        if peek() == 0x29 {
                            index += 1
                            caseInsensitive = true
                            return add(.empty)
                        }
                        guard peek() == 0x3A else { throw fail("unsupported group option") }
                        index += 1
                        let saved = caseInsensitive
                        caseInsensitive = true
                        inner = try parseAlternation()
                        caseInsensitive = saved
                    default:
                        throw fail("unsupported group syntax (?\(String(describing: peek().flatMap(Unicode.Scalar.init).map(Character.init))))")
                    }
                } else {
                    inner = try parseAlternation()
                }
                guard peek() == 0x29 else { throw fail("missing ')'") }
                index += 1
                return inner
            case 0x5B:  // [
                index += 1
                let set = try parseClass()
                return add(.set(set, caseInsensitive: caseInsensitive))
            case 0x2E:  // .
                index += 1
                return add(.any)
            case 0x5E:  // ^
                index += 1
                return add(.lineStart)
            case 0x24:  // $
                index += 1
                return add(.lineEnd)
            case 0x5C:  // backslash
                index += 1
                return try parseEscape()
            case 0x2A, 0x2B, 0x3F:
                throw fail("quantifier without operand")
            default:
                index += 1
                return add(.scalar(c, caseInsensitive: caseInsensitive))
            }
        }

        mutating func parseEscape() throws(TokenizerError) -> Int {
            guard let c = peek() else { throw fail("trailing backslash") }
            index += 1
            switch c {
            case 0x41: return add(.textStart)  // \A
            case 0x7A: return add(.textEnd)  // \z
            case 0x5A: return add(.textEndBeforeNewline)  // \Z
            case 0x62: return add(.wordBoundary)  // \b
            case 0x42: return add(.notWordBoundary)  // \B
            default:
                index -= 1
                if let set = try parseClassEscape() { return add(.set(set, caseInsensitive: caseInsensitive)) }
                let scalar = try parseEscapedScalar()
                return add(.scalar(scalar, caseInsensitive: caseInsensitive))
            }
        }

        /// `\s`, `\d`, `\w`, `\h`, `\p{..}` and their negations as a set; nil for other escapes.
        mutating func parseClassEscape(insideClass: Bool = false) throws(TokenizerError) -> ScalarSet? {
            guard let c = peek() else { return nil }
            var set = ScalarSet()
            switch c {
            case 0x73: set.classes = [(.whitespace, false)]  // \s
            case 0x53: set.classes = [(.whitespace, false)]; set.negated = true
            case 0x64: set.classes = [(.decimalDigit, false)]  // \d
            case 0x44: set.classes = [(.decimalDigit, false)]; set.negated = true
            case 0x77, 0x57:  // \w, \W
                set.classes = [(.word, false)]
                if !insideClass { set.ranges = SimpleRegex.latin1WordNumbers }
                set.negated = c == 0x57
            case 0x68: set.ranges = [0x30...0x39, 0x41...0x46, 0x61...0x66]  // \h (hex digit in Ruby syntax)
            case 0x48: set.ranges = [0x30...0x39, 0x41...0x46, 0x61...0x66]; set.negated = true
            case 0x70, 0x50:  // \p{..} \P{..}
                index += 1
                var negated = c == 0x50
                guard peek() == 0x7B else { throw fail("expected '{' after \\p") }
                index += 1
                if peek() == 0x5E { negated.toggle(); index += 1 }
                var name = ""
                while let d = peek(), d != 0x7D {
                    if let s = Unicode.Scalar(d) { name.unicodeScalars.append(s) }
                    index += 1
                }
                guard peek() == 0x7D else { throw fail("missing '}' in \\p") }
                index += 1
                guard let categories = SimpleRegex.categories(named: name) else {
                    throw fail("unsupported property \\p{\(name)}")
                }
                set.categories = [(categories, negated)]
                return set
            default:
                return nil
            }
            index += 1
            return set
        }

        mutating func parseEscapedScalar() throws(TokenizerError) -> UInt32 {
            guard let c = peek() else { throw fail("trailing backslash") }
            index += 1
            switch c {
            case 0x6E: return 0x0A  // \n
            case 0x72: return 0x0D  // \r
            case 0x74: return 0x09  // \t
            case 0x66: return 0x0C  // \f
            case 0x76: return 0x0B  // \v
            case 0x61: return 0x07  // \a
            case 0x65: return 0x1B  // \e
            case 0x30: return 0  // \0
            case 0x78:  // \xHH or \x{H..}
                if peek() == 0x7B {
                    index += 1
                    let value = readHex(maxDigits: 8)
                    guard peek() == 0x7D else { throw fail("bad \\x{..} escape") }
                    index += 1
                    return value
                }
                return readHex(maxDigits: 2)
            case 0x75:  // \uHHHH
                return readHex(maxDigits: 4)
            default:
                let isAlphanumeric = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                if isAlphanumeric { throw fail("unsupported escape \\\(Character(Unicode.Scalar(c) ?? " "))") }
                return c
            }
        }

        mutating func readHex(maxDigits: Int) -> UInt32 {
            var value: UInt32 = 0
            var digits = 0
            while digits < maxDigits, let c = peek() {
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = c - 0x30
                case 0x41...0x46: digit = c - 0x41 + 10
                case 0x61...0x66: digit = c - 0x61 + 10
                default: return value
                }
                value = value << 4 | digit
                digits += 1
                index += 1
            }
            return value
        }

        mutating func parseClass() throws(TokenizerError) -> ScalarSet {
            var set = ScalarSet()
            if peek() == 0x5E { set.negated = true; index += 1 }
            var first = true
            while true {
                guard let c = peek() else { throw fail("missing ']'") }
                if c == 0x5D && !first { index += 1; break }
                first = false
                if c == 0x5B { throw fail("nested classes are not supported") }
                var low: UInt32
                if c == 0x5C {
                    index += 1
                    if let inner = try parseClassEscape(insideClass: true) {
                        // A negated escape inside a class (\S, \P{L}) becomes a negated member.
                        for (cls, negated) in inner.classes { set.classes.append((cls, negated != inner.negated)) }
                        for (cats, negated) in inner.categories { set.categories.append((cats, negated != inner.negated)) }
                        if !inner.ranges.isEmpty {
                            if inner.negated { throw fail("negated \\H in a class is not supported") }
                            set.ranges.append(contentsOf: inner.ranges)
                        }
                        continue
                    }
                    low = try parseEscapedScalar()
                } else {
                    index += 1
                    low = c
                }
                if peek() == 0x2D, let next = peek(1), next != 0x5D {  // range a-z
                    index += 1
                    var high: UInt32
                    if next == 0x5C {
                        index += 1
                        high = try parseEscapedScalar()
                    } else {
                        index += 1
                        high = next
                    }
                    guard high >= low else { throw fail("bad range in class") }
                    set.ranges.append(low...high)
                } else {
                    set.ranges.append(low...low)
                }
            }
            return set
        }
    }

    static func categories(named name: String) -> Set<Unicode.GeneralCategory>? {
        let letters: Set<Unicode.GeneralCategory> = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
        let marks: Set<Unicode.GeneralCategory> = [.nonspacingMark, .spacingMark, .enclosingMark]
        let numbers: Set<Unicode.GeneralCategory> = [.decimalNumber, .letterNumber, .otherNumber]
        let punctuation: Set<Unicode.GeneralCategory> = [.connectorPunctuation, .dashPunctuation, .openPunctuation,
                                                         .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation]
        let symbols: Set<Unicode.GeneralCategory> = [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol]
        let separators: Set<Unicode.GeneralCategory> = [.spaceSeparator, .lineSeparator, .paragraphSeparator]
        let others: Set<Unicode.GeneralCategory> = [.control, .format, .surrogate, .privateUse, .unassigned]
        switch name {
        case "L", "Letter": return letters
        case "Lu": return [.uppercaseLetter]
        case "Ll": return [.lowercaseLetter]
        case "Lt": return [.titlecaseLetter]
        case "Lm": return [.modifierLetter]
        case "Lo": return [.otherLetter]
        case "M", "Mark": return marks
        case "Mn": return [.nonspacingMark]
        case "Mc": return [.spacingMark]
        case "Me": return [.enclosingMark]
        case "N", "Number": return numbers
        case "Nd": return [.decimalNumber]
        case "Nl": return [.letterNumber]
        case "No": return [.otherNumber]
        case "P", "Punctuation": return punctuation
        case "Pc": return [.connectorPunctuation]
        case "Pd": return [.dashPunctuation]
        case "Ps": return [.openPunctuation]
        case "Pe": return [.closePunctuation]
        case "Pi": return [.initialPunctuation]
        case "Pf": return [.finalPunctuation]
        case "Po": return [.otherPunctuation]
        case "S", "Symbol": return symbols
        case "Sm": return [.mathSymbol]
        case "Sc": return [.currencySymbol]
        case "Sk": return [.modifierSymbol]
        case "So": return [.otherSymbol]
        case "Z", "Separator": return separators
        case "Zs": return [.spaceSeparator]
        case "Zl": return [.lineSeparator]
        case "Zp": return [.paragraphSeparator]
        case "C", "Other": return others
        case "Cc": return [.control]
        case "Cf": return [.format]
        case "Co": return [.privateUse]
        case "Cn": return [.unassigned]
        default: return nil
        }
    }
}
