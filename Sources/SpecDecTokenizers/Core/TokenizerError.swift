/// Why a tokenizer could not be loaded or could not process its input. Tokenizers never
/// trap on bad input: every failure reaches the caller as one of these, so the C ABI can
/// map it to a status code.
public struct TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        /// A file could not be opened or read.
        case io = 1
        /// A file was read but is not a valid tokenizer (bad JSON, corrupt protobuf, ...).
        case format = 2
        /// The file is valid but uses a feature this library does not implement.
        case unsupported = 3
        /// Text given as bytes is not valid UTF-8.
        case invalidUTF8 = 4
        /// A token id passed to decode is not in the vocabulary.
        case idOutOfRange = 5
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }

    static func format(_ message: String) -> TokenizerError { TokenizerError(.format, message) }
    static func unsupported(_ message: String) -> TokenizerError { TokenizerError(.unsupported, message) }
}
