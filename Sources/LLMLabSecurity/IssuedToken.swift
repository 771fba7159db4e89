/// A freshly issued secret, shown to its owner exactly once. Only `sha256Hex` (and the
/// display prefix) are stored; `description`, `debugDescription` and mirrors never include
/// the secret, so logging or dumping an `IssuedToken` by mistake leaks nothing.
public struct IssuedToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public let kind: TokenKind
    /// The full bearer secret: the kind prefix and 43 base62 characters (256 random bits).
    public let secret: String
    /// The kind prefix and the first 8 random characters: enough to tell keys apart in a
    /// list, far too little to guess the rest.
    public let displayPrefix: String
    /// Lowercase hex SHA-256 of `secret`; the value stored and looked up.
    public let sha256Hex: String

    init(kind: TokenKind, secret: String) {
        self.kind = kind
        self.secret = secret
        self.displayPrefix = String(secret.prefix(kind.prefix.count + SecretToken.displayedCharacters))
        self.sha256Hex = SecretToken.sha256Hex(secret)
    }

    public var description: String { "IssuedToken(\(displayPrefix)…)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["kind": kind, "displayPrefix": displayPrefix], displayStyle: .struct)
    }
}
