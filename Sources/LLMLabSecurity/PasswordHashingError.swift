/// Why hashing or verifying a password failed. Messages name the problem and what to do;
/// they never contain the password and never echo the stored hash, so an error can be
/// logged or mapped to a client without leaking either.
public struct PasswordHashingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers that branch (the edge maps these to status codes).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The password is longer than `PasswordHasher.maxPasswordBytes`; the caller should
        /// reject the request as invalid rather than spend time hashing it.
        case passwordTooLong
        /// The stored hash is not a well-formed argon2id PHC string.
        case malformedHash
        /// The stored hash names another algorithm or version (bcrypt, argon2i, v=16 …).
        case unsupportedAlgorithm
        /// The stored hash asks for far more memory, time or threads than this server allows;
        /// refusing it stops a planted hash from exhausting memory or CPU.
        case parametersTooExpensive
        /// libargon2 reported an error (allocation failure, invalid configuration …).
        case libraryFailure
    }

    public var code: Code
    /// A human-readable explanation, free of secrets.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "password hashing: \(message)" }

    static func library(_ status: Int32) -> PasswordHashingError {
        PasswordHashingError(.libraryFailure, "argon2 failed (\(status)): \(Argon2id.message(for: status))")
    }
}
