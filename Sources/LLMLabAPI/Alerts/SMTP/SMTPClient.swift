import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Hands one message at a time to the configured relay, on SwiftNIO: EHLO, STARTTLS (the
/// TLS handler is inserted at the front of the live pipeline) or implicit TLS, AUTH PLAIN or
/// LOGIN, MAIL FROM / RCPT TO / DATA with dot-stuffing, QUIT. One connection per message:
/// alerts are rare, and a fresh session never inherits a half-failed state.
///
/// The whole exchange, connect included, is bounded by ``SMTPConfiguration/timeout``. The
/// password never leaves AUTH: errors and logs carry the server's reply text with the
/// password (and its base64 forms) redacted.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration
    let tlsContext: NIOSSLContext?

    public init(configuration: SMTPConfiguration) throws {
        self.configuration = configuration
        if configuration.implicitTLS || configuration.startTLS != .off {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let caFile = configuration.caFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            tlsContext = try NIOSSLContext(configuration: tls)
        } else {
            tlsContext = nil
        }
    }

    /// Sends `message` (rendered by ``EmailMessage``) from the configured sender to `recipients`.
    func send(_ message: EmailMessage, to recipients: [String]) async throws {
        let configuration = self.configuration
        let tlsContext = self.tlsContext
        let sni = Self.isIPAddress(configuration.host) ? nil : configuration.host
        let timedOut = TimeoutFlag()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
                do {
                    channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connectTimeout(.nanoseconds(Self.nanoseconds(configuration.timeout)))
                        .connect(host: configuration.host, port: configuration.port) { channel in
                            channel.eventLoop.makeCompletedFuture {
                                if configuration.implicitTLS, let tlsContext {
                                    try channel.pipeline.syncOperations.addHandler(
                                        try NIOSSLClientHandler(context: tlsContext, serverHostname: sni))
                                }
                                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                            }
                        }
                } catch {
                    throw SMTPError(.connect, "could not connect to \(configuration.host):\(configuration.port): \(error)")
                }
                let raw = channel.channel
                group.addTask {
                    try await Task.sleep(for: configuration.timeout)
                    timedOut.set()
                    raw.close(promise: nil)
                }
                group.addTask {
                    try await channel.executeThenClose { inbound, outbound in
                        var session = SMTPSession(configuration: configuration, inbound: inbound.makeAsyncIterator(),
                                                  outbound: outbound, channel: raw, tlsContext: tlsContext, sni: sni)
                        try await session.deliver(message, to: recipients)
                    }
                }
                defer { group.cancelAll() }
                // The session finishing (or failing) ends the exchange; the timer only closes.
                while let _ = try await group.next() {
                    if !timedOut.isSet { return }
                }
            }
        } catch let error as SMTPError {
            throw timedOut.isSet ? Self.timeoutError(configuration) : Self.redacted(error, configuration)
        } catch {
            if timedOut.isSet { throw Self.timeoutError(configuration) }
            throw Self.redacted(SMTPError(.connect, "connection to \(configuration.host):\(configuration.port) failed: \(error)"),
                                configuration)
        }
        if timedOut.isSet { throw Self.timeoutError(configuration) }
    }

    static func timeoutError(_ configuration: SMTPConfiguration) -> SMTPError {
        SMTPError(.timeout, "no answer from \(configuration.host):\(configuration.port) within \(configuration.timeout)")
    }

    /// Removes the password and its encodings from an error's text.
    static func redacted(_ error: SMTPError, _ configuration: SMTPConfiguration) -> SMTPError {
        guard let password = configuration.password, !password.isEmpty else { return error }
        var copy = error
        var secrets = [password, Data(password.utf8).base64EncodedString()]
        if let user = configuration.username {
            secrets.append(Data("\0\(user)\0\(password)".utf8).base64EncodedString())
        }
        for secret in secrets where !secret.isEmpty {
            copy.message = copy.message.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return copy
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Set once when the exchange ran out of time.
final class TimeoutFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// One SMTP conversation on an open connection.
struct SMTPSession {
    let configuration: SMTPConfiguration
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let tlsContext: NIOSSLContext?
    let sni: String?
    var encrypted = false

    init(configuration: SMTPConfiguration, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel, tlsContext: NIOSSLContext?, sni: String?) {
        self.configuration = configuration
        self.inbound = inbound
        self.outbound = outbound
        self.channel = channel
        self.tlsContext = tlsContext
        self.sni = sni
        self.encrypted = configuration.implicitTLS
    }

    mutating func deliver(_ message: EmailMessage, to recipients: [String]) async throws {
        let greeting: SMTPReply
        do {
            greeting = try await reply()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw SMTPError(configuration.implicitTLS ? .tls : .connect, "no greeting from \(configuration.host): \(error)")
        }
        try expect(greeting, [220], step: "greeting")
        var capabilities = try await ehlo()
        if !configuration.implicitTLS, configuration.startTLS != .off {
            if capabilities.contains("STARTTLS") {
                try expect(try await command("STARTTLS"), [220], step: "STARTTLS")
                try await startTLS()
                do {
                    capabilities = try await ehlo()
                } catch let error as SMTPError where error.code == .rejected {
                    throw error
                } catch {
                    // A failed handshake surfaces as the channel's error or as it closing.
                    throw SMTPError(.tls, "TLS with \(configuration.host) failed (is --smtp-ca-file the CA that signed its certificate?): \(error)")
                }
                encrypted = true
            } else if configuration.startTLS == .required {
                throw SMTPError(.tls, "\(configuration.host) does not offer STARTTLS; use a relay with TLS, smtps://, or --smtp-starttls opportunistic|off for a trusted local relay")
            }
        }
        if let username = configuration.username, let password = configuration.password {
            guard encrypted || configuration.startTLS == .off else {
                throw SMTPError(.authentication, "refusing to send SMTP credentials over an unencrypted connection to \(configuration.host)")
            }
            try await authenticate(username: username, password: password, capabilities: capabilities)
        }
        try expect(try await command("MAIL FROM:<\(configuration.from)>"), [250], step: "MAIL FROM")
        for recipient in recipients {
            try expect(try await command("RCPT TO:<\(recipient)>"), [250, 251], step: "RCPT TO <\(recipient)>")
        }
        try expect(try await command("DATA"), [354], step: "DATA")
        try await outbound.write(ByteBuffer(string: EmailMessage.dataSection(message.rendered())))
        try expect(try await reply(), [250], step: "message")
        _ = try? await command("QUIT")
    }

    /// EHLO; the capability keywords (upper-cased lines after the first, e.g. "STARTTLS",
    /// "AUTH PLAIN LOGIN").
    mutating func ehlo() async throws -> Set<String> {
        let answer = try await command("EHLO \(configuration.heloName)")
        try expect(answer, [250], step: "EHLO")
        var result = Set<String>()
        for line in answer.lines.dropFirst() {
            let upper = line.uppercased()
            result.insert(upper)
            let words = upper.replacingOccurrences(of: "=", with: " ").split(separator: " ").map(String.init)
            if let first = words.first {
                result.insert(first)
                if first == "AUTH" { for mechanism in words.dropFirst() { result.insert("AUTH:" + mechanism) } }
            }
        }
        return result
    }

    mutating func authenticate(username: String, password: String, capabilities: Set<String>) async throws {
        if capabilities.contains("AUTH:PLAIN") {
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try expect(try await command("AUTH PLAIN \(token)"), [235], step: "AUTH PLAIN")
        } else if capabilities.contains("AUTH:LOGIN") {
            try expect(try await command("AUTH LOGIN"), [334], step: "AUTH LOGIN")
            try expect(try await command(Data(username.utf8).base64EncodedString()), [334], step: "AUTH LOGIN (user)")
            try expect(try await command(Data(password.utf8).base64EncodedString()), [235], step: "AUTH LOGIN")
        } else {
            throw SMTPError(.authentication, "\(configuration.host) offers neither AUTH PLAIN nor AUTH LOGIN")
        }
    }

    /// Inserts the TLS client handler in front of the line decoder; the handshake starts at
    /// once and writes wait for it.
    func startTLS() async throws {
        guard let tlsContext else { throw SMTPError(.tls, "TLS is not configured") }
        let channel = self.channel
        let sni = self.sni
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: sni),
                                                           position: .first)
        }.get()
    }

    mutating func command(_ line: String) async throws -> SMTPReply {
        try await outbound.write(ByteBuffer(string: line + "\r\n"))
        return try await reply()
    }

    /// Reads one (possibly multi-line) reply.
    mutating func reply() async throws -> SMTPReply {
        var lines: [String] = []
        while true {
            guard let buffer = try await inbound.next() else {
                throw SMTPError(.connect, "\(configuration.host) closed the connection")
            }
            let text = String(buffer: buffer)
            let bytes = Array(text.utf8)
            guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(code),
                  bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
            else {
                throw SMTPError(.protocolError, "\(configuration.host) sent something that is not an SMTP reply: \(text.prefix(80))")
            }
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count > 3, bytes[3] == UInt8(ascii: "-") {
                guard lines.count < 100 else { throw SMTPError(.protocolError, "a reply of more than 100 lines") }
                continue
            }
            return SMTPReply(code: code, lines: lines)
        }
    }

    func expect(_ reply: SMTPReply, _ codes: Set<Int>, step: String) throws {
        guard codes.contains(reply.code) else {
            throw SMTPError(.rejected, replyCode: reply.code, "\(step) refused: \(reply.text)")
        }
    }
}
