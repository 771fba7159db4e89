import Foundation
@testable import LLMLabAPI
import LLMLabServer
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A local SMTP server for tests, on SwiftNIO: EHLO, STARTTLS (NIOSSLServerHandler with a
/// development certificate inserted into the live pipeline), AUTH PLAIN/LOGIN, MAIL/RCPT/DATA
/// (dot-stuffing undone), QUIT. Records every accepted message; can refuse RCPT with a
/// chosen reply.
final class SMTPSink: Sendable {
    struct Message: Sendable {
        var from: String
        var recipients: [String]
        /// The DATA section as received, CRLF line endings, dot-stuffing undone.
        var data: String
        var tls: Bool
        var authenticatedAs: String?
        var password: String?

        /// Header value (first match, case-insensitive name).
        func header(_ name: String) -> String? {
            for line in data.components(separatedBy: "\r\n") {
                if line.isEmpty { break }
                if line.lowercased().hasPrefix(name.lowercased() + ":") {
                    return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }

        var body: String {
            guard let range = data.range(of: "\r\n\r\n") else { return "" }
            return String(data[range.upperBound...])
        }
    }

    struct Options: Sendable {
        /// Offer STARTTLS (with the certificate) before anything else.
        var startTLS = true
        /// A reply for every RCPT TO, e.g. "550 5.1.1 mailbox unavailable"; nil accepts.
        var rcptReply: String?
        /// TLS from the first byte (smtps://) instead of STARTTLS.
        var implicitTLS = false
        /// What EHLO offers after `AUTH`.
        var mechanisms = "PLAIN LOGIN"
    }

    private let state = Mutex([Message]())
    let options: Options
    let tls: NIOSSLContext?
    /// The CA that signed the sink's certificate (for `--smtp-ca-file`).
    let caFile: String
    let directory: String

    init(options: Options = .init()) throws {
        self.options = options
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-smtp-\(UUID().uuidString)").path
        let certificates = DevelopmentCertificates(directory: directory)
        try certificates.ensure()
        caFile = certificates.paths.caCertificate
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.paths.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.paths.serverKey, format: .pem)))
        tls = try NIOSSLContext(configuration: configuration)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var messages: [Message] { state.withLock { $0 } }

    /// Runs `body` with the sink listening on 127.0.0.1; passes its port.
    func serving<R: Sendable>(_ body: @Sendable (Int) async throws -> R) async throws -> R {
        let implicitTLS = options.implicitTLS ? tls : nil
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: implicitTLS)) }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress?.port ?? 0
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await connection in inbound {
                            connections.addTask { try? await self.handle(connection) }
                        }
                    }
                }
            }
            defer {
                server.channel.close(promise: nil)
                group.cancelAll()
            }
            return try await body(port)
        }
    }

    private func handle(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws {
        let channel = connection.channel
        try await connection.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func send(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text + "\r\n")) }
            var tlsOn = options.implicitTLS
            var from = ""
            var recipients: [String] = []
            var user: String?
            var password: String?
            try await send("220 sink.test ESMTP ready")
            while let buffer = try await lines.next() {
                let line = String(buffer: buffer)
                let upper = line.uppercased()
                if upper.hasPrefix("EHLO") {
                    var reply = ["250-sink.test"]
                    if options.startTLS && !tlsOn && !options.implicitTLS { reply.append("250-STARTTLS") }
                    if tlsOn || !options.startTLS { reply.append("250-AUTH \(options.mechanisms)") }
                    reply.append("250 8BITMIME")
                    try await send(reply.joined(separator: "\r\n"))
                } else if upper == "STARTTLS", options.startTLS, !tlsOn, let tls {
                    try await send("220 2.0.0 go ahead")
                    try await channel.eventLoop.submit {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
                    }.get()
                    tlsOn = true
                } else if upper.hasPrefix("AUTH PLAIN ") {
                    let token = String(line.dropFirst("AUTH PLAIN ".count))
                    let parts = Data(base64Encoded: token).map { String(decoding: $0, as: UTF8.self) }?
                        .split(separator: "\0", omittingEmptySubsequences: false).map(String.init) ?? []
                    if parts.count == 3 { (user, password) = (parts[1], parts[2]) }
                    try await send(parts.count == 3 ? "235 2.7.0 ok" : "501 bad token")
                } else if upper == "AUTH LOGIN" {
                    try await send("334 VXNlcm5hbWU6")
                    guard let u = try await lines.next() else { return }
                    user = Data(base64Encoded: String(buffer: u)).map { String(decoding: $0, as: UTF8.self) }
                    try await send("334 UGFzc3dvcmQ6")
                    guard let p = try await lines.next() else { return }
                    password = Data(base64Encoded: String(buffer: p)).map { String(decoding: $0, as: UTF8.self) }
                    try await send("235 2.7.0 ok")
                } else if upper.hasPrefix("MAIL FROM:") {
                    from = Self.address(line)
                    recipients = []
                    try await send("250 2.1.0 ok")
                } else if upper.hasPrefix("RCPT TO:") {
                    if let refusal = options.rcptReply {
                        try await send(refusal)
                    } else {
                        recipients.append(Self.address(line))
                        try await send("250 2.1.5 ok")
                    }
                } else if upper == "DATA" {
                    try await send("354 end with <CRLF>.<CRLF>")
                    var data: [String] = []
                    while let part = try await lines.next() {
                        let text = String(buffer: part)
                        if text == "." { break }
                        data.append(text.hasPrefix(".") ? String(text.dropFirst()) : text)
                    }
                    let message = Message(from: from, recipients: recipients, data: data.joined(separator: "\r\n"), tls: tlsOn,
                                          authenticatedAs: user, password: password)
                    state.withLock { $0.append(message) }
                    try await send("250 2.0.0 queued")
                } else if upper == "QUIT" {
                    try await send("221 2.0.0 bye")
                    return
                } else {
                    try await send("502 5.5.2 command not recognized")
                }
            }
        }
    }

    static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }
}
