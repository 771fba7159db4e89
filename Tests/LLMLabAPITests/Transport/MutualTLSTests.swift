import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabAPI
import LLMLabProto
import LLMLabSecurity
import LLMLabServer
import LLMLabTestSupport
import SwiftASN1
import Testing
import X509

/// With a client CA configured, the gRPC listener requires client certificates: a client
/// without one cannot even complete the handshake; a client with one signed by that CA can.
@Suite("Mutual TLS")
struct MutualTLSTests {
    /// A client CA and a client certificate signed by it, written as PEM files.
    static func makeClientPKI(in directory: String) throws -> (ca: String, cert: String, key: String) {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("LLMLab test client CA") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let clientKey = P256.Signing.PrivateKey()
        let client = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(clientKey.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: caName, subject: try DistinguishedName { CommonName("ops-automation") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(caKey))
        let paths = (directory + "/client-ca.pem", directory + "/client.pem", directory + "/client-key.pem")
        try ca.serializeAsPEM().pemString.write(toFile: paths.0, atomically: true, encoding: .utf8)
        try client.serializeAsPEM().pemString.write(toFile: paths.1, atomically: true, encoding: .utf8)
        try clientKey.pemRepresentation.write(toFile: paths.2, atomically: true, encoding: .utf8)
        return paths
    }

    @Test("a client certificate is required and accepted")
    func requiresClientCertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-mtls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try Self.makeClientPKI(in: directory)
        let database = try await TestPostgres.makeDatabase(label: "mtls")
        let plane = ControlPlane(database: database.database, passwordHasher: PasswordHasher(),
                                 keyVault: KeyVault(masterKey: .generate()), logger: TestControlPlane.logger)
        var grpc = ServerConfiguration.GRPC.defaults
        grpc.clientCAFile = pki.ca
        let (security, scheme) = try GRPCListener.security(for: grpc, tlsDirectory: directory + "/tls", logger: TestControlPlane.logger)
        #expect(scheme == "mTLS")
        let server = GRPCListener.makeServer(host: "127.0.0.1", port: 0, security: security,
                                             services: plane.services, interceptors: plane.interceptors)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            defer {
                plane.shutdown.fire()
                server.beginGracefulShutdown()
            }
            let port = try #require(try await server.listeningAddress?.ipv4).port
            let trust = TLSConfig.TrustRootsSource.certificates([.file(path: directory + "/tls/ca.pem", format: .pem)])

            let anonymous = try await withGRPCClient(transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: port),
                transportSecurity: .tls { $0.trustRoots = trust })
            ) { client in
                await rpcCode { _ = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init()) }
            }
            #expect(anonymous == .unavailable)

            let status = try await withGRPCClient(transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: port),
                transportSecurity: .mTLS(
                    certificateChain: [.file(path: pki.cert, format: .pem)],
                    privateKey: .file(path: pki.key, format: .pem)) { $0.trustRoots = trust })
            ) { client in
                try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init()).status
            }
            #expect(status == .serving)
        }
        await database.shutdown()
    }
}
