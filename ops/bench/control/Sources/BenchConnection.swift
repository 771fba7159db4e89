import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// How the benchmark reaches the server: one address, TLS with full verification against
/// the server's CA. Each ``GRPCClient`` it opens owns its own HTTP/2 connection, so N
/// clients model N separate callers rather than N streams multiplexed on one socket.
struct BenchConnection: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix
    typealias Client = GRPCClient<Transport>

    let address: String
    let caFile: String

    /// Every call gets a deadline so a stuck server cannot hang the benchmark.
    static let callTimeout: Duration = .seconds(30)

    init(address: String, caFile: String) throws {
        self.address = address
        self.caFile = caFile
        _ = try Self.parse(address)  // fail early on a malformed address
    }

    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = Self.callTimeout
        options.waitForReady = false
        return options
    }

    static func bearer(_ token: String) -> Metadata {
        ["authorization": "Bearer \(token)"]
    }

    /// Opens `count` clients (one TLS connection each, dialled lazily on the first call),
    /// runs `body`, then shuts them all down gracefully, whether `body` succeeded or not.
    func withClients<Result: Sendable>(
        _ count: Int, _ body: ([Client]) async throws -> Result
    ) async throws -> Result {
        let caFile = self.caFile
        let target = try Self.parse(address)
        let clients = try (0..<count).map { _ in
            Client(transport: try Transport(
                target: target,
                transportSecurity: .tls { config in
                    config.serverCertificateVerification = .fullVerification
                    config.trustRoots = .certificates([.file(path: caFile, format: .pem)])
                }))
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            defer { for client in clients { client.beginGracefulShutdown() } }
            return try await body(clients)
        }
    }

    /// `host:port`, `[v6]:port`; IPv4 literals are dialled directly (the certificate's IP
    /// SAN is then what TLS checks), anything else is resolved by DNS.
    static func parse(_ text: String) throws -> any ResolvableTarget {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65_535).contains(port)
        else { throw BenchError("--address \(text): expected host:port, e.g. 127.0.0.1:7443") }
        let host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            return .ipv6(address: String(host.dropFirst().dropLast()), port: port)
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            return .ipv4(address: host, port: port)
        }
        guard !host.isEmpty else { throw BenchError("--address \(text): missing host") }
        return .dns(host: host, port: port)
    }
}

/// A failure of the benchmark itself (bad flags, unexpected server answers), in plain words.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
