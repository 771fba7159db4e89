import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `host:port` the console dials. IP literals are dialled directly (TLS then checks the
/// certificate's IP SANs against the address); names are resolved by DNS and sent as SNI
/// and checked against the DNS SANs. Hostname verification is never turned off.
struct ServerAddress: Sendable, CustomStringConvertible {
    enum Kind: Sendable { case ipv4, ipv6, dns }

    var host: String
    var port: Int
    var kind: Kind

    init(parsing text: String) throws {
        let input = text.trimmingWhitespace()
        if input.contains("://") {
            throw AdminError.usage("--address takes host:port, not a URL (got \(text))")
        }
        var host: String
        var portText: String?
        if input.hasPrefix("[") {
            // [v6]:port
            guard let close = input.firstIndex(of: "]") else {
                throw AdminError.usage("--address \(text): missing ] after the IPv6 address")
            }
            host = String(input[input.index(after: input.startIndex)..<close])
            let rest = input[input.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw AdminError.usage("--address \(text): expected :port after ]") }
                portText = String(rest.dropFirst())
            }
        } else if input.filter({ $0 == ":" }).count > 1 {
            guard Self.isIPLiteral(input, family: AF_INET6) else {
                throw AdminError.usage("--address \(text): expected host:port (write IPv6 addresses as [::1]:7443)")
            }
            host = input  // bare IPv6 literal, default port
        } else if let colon = input.lastIndex(of: ":") {
            host = String(input[..<colon])
            portText = String(input[input.index(after: colon)...])
        } else {
            host = input
        }
        guard !host.isEmpty else { throw AdminError.usage("--address \(text): missing host") }
        var port = ConnectionSettings.defaultPort
        if let portText {
            guard let parsed = Int(portText), (1...65_535).contains(parsed) else {
                throw AdminError.usage("--address \(text): the port must be a number from 1 to 65535")
            }
            port = parsed
        }
        self.host = host
        self.port = port
        if Self.isIPLiteral(host, family: AF_INET) {
            kind = .ipv4
        } else if Self.isIPLiteral(host, family: AF_INET6) {
            kind = .ipv6
        } else {
            kind = .dns
        }
    }

    /// `host:port`, with brackets around IPv6 literals; also the key of saved sessions.
    var description: String { kind == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var target: any ResolvableTarget {
        switch kind {
        case .ipv4: .ipv4(address: host, port: port)
        case .ipv6: .ipv6(address: host, port: port)
        case .dns: .dns(host: host, port: port)
        }
    }

    private static func isIPLiteral(_ host: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return host.withCString { inet_pton(family, $0, &buffer) } == 1
    }
}

/// The resolved connection: address plus transport security.
struct ConnectionSettings: Sendable {
    static let defaultPort = 7443
    static let defaultAddress = "127.0.0.1:7443"

    enum Security: Sendable {
        case plaintext
        /// TLS with full verification against `caFile`, or the system roots when `nil`.
        case tls(caFile: String?)
    }

    var address: ServerAddress
    var security: Security

    /// Every call gets a deadline so a stuck server cannot hang a script.
    static let callTimeoutSeconds = 60

    /// A description of the transport for error messages.
    var securitySummary: String {
        switch security {
        case .plaintext: "plaintext"
        case .tls(let caFile?): "TLS, trusting \(caFile)"
        case .tls(nil): "TLS, trusting the system roots"
        }
    }

    var errorDescriber: RPCErrorDescriber {
        RPCErrorDescriber(
            address: address.description,
            transportSummary: securitySummary,
            plaintext: { if case .plaintext = security { true } else { false } }(),
            timeoutSeconds: Self.callTimeoutSeconds)
    }

    fileprivate var transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        switch security {
        case .plaintext:
            return .plaintext
        case .tls(let caFile):
            return .tls { config in
                config.serverCertificateVerification = .fullVerification
                if let caFile {
                    config.trustRoots = .certificates([.file(path: caFile, format: .pem)])
                } else {
                    config.trustRoots = .systemDefault
                }
            }
        }
    }

    /// Opens a client for the duration of `body`; the bearer token, when given, is sent
    /// with every call. RPC errors come out as `AdminError.failed` in plain words.
    func withClient<Result: Sendable>(
        token: String?,
        _ body: (ControlClient) async throws -> Result
    ) async throws -> Result {
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: address.target,
                transportSecurity: transportSecurity)
        } catch {
            if case .tls(let caFile?) = security {
                throw AdminError.failed("cannot use \(caFile) as the CA: it is not a PEM certificate")
            }
            throw AdminError.failed("cannot set up the connection to \(address): \(Self.plain(error))")
        }
        var metadata: Metadata = [:]
        if let token { metadata.addString("Bearer \(token)", forKey: "authorization") }
        var options = CallOptions.defaults
        options.timeout = .seconds(Self.callTimeoutSeconds)
        options.waitForReady = false
        var describer = errorDescriber
        describer.sentCredential = token != nil
        do {
            return try await withGRPCClient(transport: transport) { client in
                try await body(ControlClient(client: client, metadata: metadata, options: options))
            }
        } catch let error as RPCError {
            throw AdminError.failed(describer.describe(error))
        } catch let error as RuntimeError {
            throw AdminError.failed("the connection to \(address) failed: \(error.message)")
        }
    }

    private static func plain(_ error: any Error) -> String {
        if let error = error as? RuntimeError { return error.message }
        return String(describing: error)
    }
}

/// One open connection plus what every call carries (credential metadata, deadline). The
/// typed service clients hang off it so commands read `client.projects.createProject(…)`.
struct ControlClient: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix

    let client: GRPCClient<Transport>
    let metadata: Metadata
    let options: CallOptions

    var auth: Llmlab_V1_AuthService.Client<Transport> { .init(wrapping: client) }
    var tenants: Llmlab_V1_TenantService.Client<Transport> { .init(wrapping: client) }
    var users: Llmlab_V1_UserService.Client<Transport> { .init(wrapping: client) }
    var projects: Llmlab_V1_ProjectService.Client<Transport> { .init(wrapping: client) }
    var providerKeys: Llmlab_V1_ProviderKeyService.Client<Transport> { .init(wrapping: client) }
    var audit: Llmlab_V1_AuditService.Client<Transport> { .init(wrapping: client) }
    var health: Grpc_Health_V1_Health.Client<Transport> { .init(wrapping: client) }
}
