public import Foundation

/// The server-wide SMTP relay that email alert channels send through (`--smtp-url`,
/// `--smtp-from`, `--smtp-starttls`, `--smtp-ca-file`). The password is only ever used for
/// AUTH: ``description`` and every error leave it out.
public struct SMTPConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Whether and how the plaintext connection is upgraded with STARTTLS.
    public enum StartTLS: String, Sendable, CaseIterable {
        /// Refuse to send unless the server offers STARTTLS and the upgrade succeeds.
        case required
        /// Upgrade when offered; otherwise send in plaintext (and never AUTH in plaintext).
        case opportunistic
        /// Never upgrade (a local relay on a trusted network).
        case off
    }

    /// What went wrong with the settings; the message names the flag and what to do.
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var code = "smtp_configuration"
        public var message: String
        public var description: String { message }
    }

    public var host: String
    public var port: Int
    /// `smtps://`: TLS from the first byte (port 465 by default); STARTTLS does not apply.
    public var implicitTLS: Bool
    public var username: String?
    public var password: String?
    /// The envelope sender and the From header: a plain address.
    public var from: String
    public var startTLS: StartTLS
    /// A PEM file of CA certificates to trust instead of the system roots (a private CA).
    public var caFile: String?
    /// Connect to last reply, per message.
    public var timeout: Duration = .seconds(30)
    /// The name sent with EHLO.
    public var heloName: String = "llmlab"

    public init(host: String, port: Int, implicitTLS: Bool = false, username: String? = nil, password: String? = nil,
                from: String, startTLS: StartTLS = .required, caFile: String? = nil) {
        self.host = host
        self.port = port
        self.implicitTLS = implicitTLS
        self.username = username
        self.password = password
        self.from = from
        self.startTLS = startTLS
        self.caFile = caFile
    }

    /// Parses `smtp://[user:pass@]host[:port]` or `smtps://…` (user and password
    /// percent-encoded), the sender address and the STARTTLS mode.
    public static func parse(url: String, from: String?, startTLS: String?, caFile: String?) throws -> SMTPConfiguration {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "smtp" || scheme == "smtps"
        else {
            throw Error(message: "--smtp-url must look like smtp://[user:pass@]host[:port] or smtps://…")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Error(message: "--smtp-url names no host: use smtp://[user:pass@]host[:port]")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw Error(message: "--smtp-url takes no path or query: use smtp://[user:pass@]host[:port]")
        }
        let implicit = scheme == "smtps"
        let port = components.port ?? (implicit ? 465 : 25)
        guard (1...65535).contains(port) else { throw Error(message: "--smtp-url has no valid port (1-65535)") }
        let username = components.percentEncodedUser.map { $0.removingPercentEncoding ?? $0 }
        let password = components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 }
        if (username == nil) != (password == nil) || username == "" {
            throw Error(message: "--smtp-url: give both user and password (smtp://user:pass@host) or neither")
        }
        guard let from = from?.trimmingCharacters(in: .whitespaces), !from.isEmpty else {
            throw Error(message: "--smtp-from is required with --smtp-url: the sender address, e.g. alerts@example.com")
        }
        guard Self.isPlainAddress(from) else {
            throw Error(message: "--smtp-from \"\(from)\" is not a plain address (local@domain, ASCII, no spaces or <>)")
        }
        let mode: StartTLS
        if let startTLS {
            guard let parsed = StartTLS(rawValue: startTLS.lowercased()) else {
                throw Error(message: "--smtp-starttls must be required, opportunistic or off (got \"\(startTLS)\")")
            }
            mode = parsed
        } else {
            mode = .required
        }
        if let caFile, !FileManager.default.fileExists(atPath: caFile) {
            throw Error(message: "--smtp-ca-file \(caFile) does not exist")
        }
        return SMTPConfiguration(host: host, port: port, implicitTLS: implicit, username: username, password: password,
                                 from: from, startTLS: mode, caFile: caFile)
    }

    /// `local@domain`, ASCII, nothing that could break out of an SMTP command or header.
    static func isPlainAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && text.allSatisfy { $0.isASCII }
            && !text.contains(where: { $0.isWhitespace || "<>\"()[]\\,;:".contains($0) })
    }

    /// The relay without its password.
    public var description: String {
        "\(implicitTLS ? "smtps" : "smtp")://\(username.map { "\($0)@" } ?? "")\(host):\(port) (from \(from), starttls \(startTLS.rawValue))"
    }

    public var debugDescription: String { description }

    /// Dumps and reflection-based printing of anything holding the settings show the
    /// description only, never the password.
    public var customMirror: Mirror { Mirror(self, children: ["relay": description]) }
}
