/// `Digits`: isolates each digit, or each run of digits (Rust's `char::is_numeric`, N*).
struct DigitsPreTokenizer: PreTokenizer {
    let individualDigits: Bool

    func preTokenize(_ buffer: inout PieceBuffer) {
        buffer.split(behavior: individualDigits ? .isolated : .contiguous) { CharacterClass.of($0).contains(.number) }
    }
}
