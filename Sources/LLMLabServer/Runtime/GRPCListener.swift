public import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging

/// Builds the gRPC server for a configuration: TLS from the production files or the
/// development CA, mTLS when a client CA is configured, plaintext only when asked for.
public enum GRPCListener {
    public static func makeServer(
        host: String, port: Int, security: HTTP2ServerTransport.Posix.TransportSecurity,
        services: [any RegistrableRPCService], interceptors: [any ServerInterceptor]
    ) -> GRPCServer<HTTP2ServerTransport.Posix> {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = 4 * 1024 * 1024
        // OTLP exporters compress with gzip by default in many SDKs (and the `llmlab` SDK does).
        config.compression.enabledAlgorithms = .all
        let address: GRPCNIOTransportCore.SocketAddress = host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        let transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: security, config: config)
        return GRPCServer(transport: transport, services: services, interceptors: interceptors)
    }

    /// Transport security for `grpc`, creating development certificates when needed.
    /// The server certificate chain and key files: the production ones when given, else the
    /// development CA's (created on first use). The HTTP listener uses the same (`--http-tls`).
    public static func certificateFiles(for grpc: ServerConfiguration.GRPC, tlsDirectory: String, logger: Logger) throws -> (String, String) {
        if let certificate = grpc.certificateFile, let privateKey = grpc.privateKeyFile {
            return (certificate, privateKey)
        }
        let development = DevelopmentCertificates(directory: tlsDirectory)
        if try development.ensure() {
            logger.info("created development TLS certificates", metadata: ["ca": "\(development.paths.caCertificate)"])
        }
        return (development.paths.serverCertificate, development.paths.serverKey)
    }

    public static func security(
        for grpc: ServerConfiguration.GRPC, tlsDirectory: String, logger: Logger
    ) throws -> (HTTP2ServerTransport.Posix.TransportSecurity, String) {
        if grpc.insecure {
            logger.warning("gRPC is running WITHOUT TLS (--insecure): credentials cross the network in plaintext; use this only on a trusted loopback")
            return (.plaintext, "plaintext")
        }
        let (chain, key) = try certificateFiles(for: grpc, tlsDirectory: tlsDirectory, logger: logger)
        let certificates: [TLSConfig.CertificateSource] = [.file(path: chain, format: .pem)]
        let privateKey = TLSConfig.PrivateKeySource.file(path: key, format: .pem)
        if let clientCA = grpc.clientCAFile {
            return (.mTLS(certificateChain: certificates, privateKey: privateKey) {
                // The transport's mTLS default verifies the chain without a hostname check
                // (clients have no hostname to match).
                $0.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
            }, "mTLS")
        }
        return (.tls(certificateChain: certificates, privateKey: privateKey), "TLS")
    }
}
