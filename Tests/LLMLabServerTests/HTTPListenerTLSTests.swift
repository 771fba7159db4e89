import AsyncHTTPClient
import Foundation
import LLMLabGateway
import LLMLabSecurity
import LLMLabServer
import LLMLabStore
import LLMLabTestSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Testing

/// `--http-tls`: the HTTP listener serves TLS with the server certificate (here the
/// development CA's, as `llmlab-server` uses when no production certificate is given).
@Suite("HTTP listener over TLS")
struct HTTPListenerTLSTests {
    @Test("with TLS files the listener speaks HTTPS that verifies against the development CA; plaintext HTTP gets no answer")
    func servesTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-http-tls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = DevelopmentCertificates(directory: directory)
        _ = try certificates.ensure()
        let database = try await TestPostgres.makeDatabase(label: "http-tls")
        var logger = Logger(label: "http-tls-test")
        logger.logLevel = .critical
        var configuration = GatewayConfiguration()
        configuration.port = 0
        configuration.usageSpoolDirectory = directory + "/spool"
        configuration.tls = TLSFiles(certificateChain: certificates.paths.serverCertificate, privateKey: certificates.paths.serverKey)
        let gateway = Gateway(database: database.database, keyVault: KeyVault(masterKey: MasterKey.generate()),
                              configuration: configuration, logger: logger)
        let (ports, port) = AsyncStream<Int>.makeStream()
        let application = try gateway.buildApplication(onServerRunning: { port.yield($0) })

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(certificates.paths.caCertificate)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await application.run() }
                let bound = try #require(await ports.first { _ in true })
                let secure = try await client.execute(HTTPClientRequest(url: "https://localhost:\(bound)/healthz"), timeout: .seconds(10))
                #expect(secure.status == .ok)
                await #expect(throws: (any Error).self) {
                    _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(bound)/healthz"), timeout: .seconds(3))
                }
                group.cancelAll()
            }
        } catch {
            try? await client.shutdown()
            await database.shutdown()
            throw error
        }
        try await client.shutdown()
        await database.shutdown()
    }

    @Test("a missing certificate file is a clear startup error naming it")
    func missingFiles() throws {
        var configuration = GatewayConfiguration()
        configuration.tls = TLSFiles(certificateChain: "/nonexistent/server.pem", privateKey: "/nonexistent/server-key.pem")
        // No database is touched before the listener is built.
        let database = Database(configuration: try DatabaseConfiguration.parse(url: "postgres://u@127.0.0.1:1/none"), logger: Logger(label: "t"))
        let gateway = Gateway(database: database, keyVault: KeyVault(masterKey: MasterKey.generate()), configuration: configuration,
                              logger: Logger(label: "t"))
        let error = #expect(throws: GatewayStartupError.self) { _ = try gateway.buildApplication() }
        #expect(error?.description.contains("/nonexistent/server.pem") == true)
    }
}
