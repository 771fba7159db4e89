/// Why an email could not be handed to the relay. Messages carry the server's reply text
/// (trimmed) but never the credentials: the client redacts the password and its encodings
/// from anything it reports.
public struct SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The TCP connection could not be made or was lost.
        case connect
        /// TLS (implicit or STARTTLS) failed, or STARTTLS is required and not offered.
        case tls
        /// The server answered with a reply code the step does not accept.
        case rejected
        /// The server spoke something that is not SMTP.
        case protocolError = "protocol"
        /// No answer within the configured timeout.
        case timeout
        /// AUTH is configured but the server offers neither PLAIN nor LOGIN, or the session
        /// is not encrypted.
        case authentication
    }

    public var code: Code
    /// The reply code when the server refused a step (4xx: temporary, 5xx: permanent).
    public var replyCode: Int?
    public var message: String

    public init(_ code: Code, replyCode: Int? = nil, _ message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = String(message.prefix(500))
    }

    public var description: String {
        replyCode.map { "SMTP \($0): \(message)" } ?? "SMTP \(code.rawValue): \(message)"
    }
}
