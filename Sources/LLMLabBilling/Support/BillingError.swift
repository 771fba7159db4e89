import Foundation

/// Why fetching or importing billing data failed. Messages say what went wrong and what
/// to do; they never contain a credential (connectors redact it from anything a provider
/// echoes back before it lands here).
public struct BillingError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The connection's settings are incomplete or malformed.
        case configuration
        /// The provider rejected the credential (401/403).
        case unauthorized
        /// Still rate limited (429) after the bounded retries.
        case rateLimited
        /// Any other non-success status after retries.
        case httpStatus
        /// No response (DNS, connect, TLS, timeout).
        case transport
        /// The provider answered with a shape we do not understand.
        case invalidResponse
        /// An imported file is malformed (the message names line and column).
        case invalidFile
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// `text` with every occurrence of `secret` (and of its last eight characters, since
    /// providers sometimes echo a key partly) replaced, bounded to 300 characters.
    static func redacted(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where secret.count >= 8 {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
            result = result.replacingOccurrences(of: String(secret.suffix(8)), with: "[redacted]")
        }
        return result.count > 300 ? String(result.prefix(300)) + "…" : result
    }
}
