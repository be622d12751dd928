/// Every failure the engine reports. The kind maps one-to-one onto the C ABI's status
/// codes (see `StatusCode`); the message is what a user needs to fix the input.
public struct SpecDecError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        case invalidArgument = 1
        case io = 2
        case format = 3
        case unsupported = 4
        case shape = 5
        case tokenOutOfRange = 6
        case bufferTooSmall = 7
        case capacity = 8
        case outOfMemory = 9
        case cancelled = 10
        case callback = 11
        case `internal` = 12
        case invalidUTF8 = 13
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The same failure with `context` in front ("sequence 3: ..." in a batch call).
    public func prefixed(_ context: String) -> SpecDecError { .init(kind, "\(context): \(message)") }

    public static func invalidArgument(_ m: String) -> SpecDecError { .init(.invalidArgument, m) }
    public static func io(_ m: String) -> SpecDecError { .init(.io, m) }
    public static func format(_ m: String) -> SpecDecError { .init(.format, m) }
    public static func unsupported(_ m: String) -> SpecDecError { .init(.unsupported, m) }
    public static func shape(_ m: String) -> SpecDecError { .init(.shape, m) }
}
