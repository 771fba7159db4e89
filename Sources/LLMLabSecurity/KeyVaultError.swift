/// Why a key-vault operation failed. Messages say what to check or do; they never contain
/// key material, plaintext or ciphertext, so they are safe to log and to return.
public struct KeyVaultError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The blob did not authenticate: altered, sealed for other associated data (another
        /// tenant or key id), or wrapped under a different master key.
        case authenticationFailed
        /// The blob is too short or otherwise not a vault blob.
        case malformed
        /// The blob's version byte is one this build does not know.
        case unsupportedVersion
        /// A master key (from the environment or a file) is not 32 bytes of base64.
        case invalidMasterKey
        /// The master key file could not be read, created or written.
        case masterKeyFile
        /// The master key file is readable or writable by group or others.
        case masterKeyFilePermissions
        /// An argument is unusable (for example an empty tenant id).
        case invalidArgument
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "key vault: \(message)" }
}
