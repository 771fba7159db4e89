import Foundation
import LLMLabServer
import Logging
import Testing

@Suite("Server configuration")
struct ServerConfigurationTests {
    @Test("defaults match the documented ones")
    func defaults() throws {
        let configuration = try ServerConfiguration.resolve(flags: ServerFlags(), environment: [:])
        #expect(configuration.home == "./.llmlab")
        #expect(configuration.grpc.host == "127.0.0.1")
        #expect(configuration.grpc.port == 7443)
        #expect(configuration.databaseURL == nil)
        #expect(!configuration.grpc.insecure)
        #expect(configuration.resolvedMasterKeyFile == "./.llmlab/master.key")
        #expect(configuration.operatorTokenFile == "./.llmlab/operator.token")
    }

    @Test("flags win over environment, environment over the config file")
    func precedence() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try Data(#"{"grpc_address": "127.0.0.1:9001", "database_url": "postgres://file@h/db", "log_level": "debug"}"#.utf8)
            .write(to: URL(fileURLWithPath: home + "/server.json"))

        let fromFile = try ServerConfiguration.resolve(flags: ServerFlags(), environment: ["LLMLAB_HOME": home])
        #expect(fromFile.grpc.port == 9001)
        #expect(fromFile.databaseURL == "postgres://file@h/db")
        #expect(fromFile.logLevel == .debug)

        let fromEnvironment = try ServerConfiguration.resolve(
            flags: ServerFlags(), environment: ["LLMLAB_HOME": home, "LLMLAB_GRPC_ADDRESS": "0.0.0.0:9002"])
        #expect(fromEnvironment.grpc.port == 9002)
        #expect(fromEnvironment.grpc.host == "0.0.0.0")

        var flags = ServerFlags()
        flags.grpcAddress = "[::1]:9003"
        flags.databaseURL = "postgres://flag@h/db"
        let fromFlags = try ServerConfiguration.resolve(
            flags: flags, environment: ["LLMLAB_HOME": home, "LLMLAB_GRPC_ADDRESS": "0.0.0.0:9002"])
        #expect(fromFlags.grpc.host == "::1")
        #expect(fromFlags.grpc.port == 9003)
        #expect(fromFlags.databaseURL == "postgres://flag@h/db")
    }

    @Test("bad values are clear errors")
    func errors() throws {
        var flags = ServerFlags()
        flags.grpcAddress = "localhost"
        #expect(throws: ServerError.self) { try ServerConfiguration.resolve(flags: flags, environment: [:]) }
        flags.grpcAddress = "127.0.0.1:99999"
        #expect(throws: ServerError.self) { try ServerConfiguration.resolve(flags: flags, environment: [:]) }
        var tls = ServerFlags()
        tls.tlsCertificate = "/etc/cert.pem"
        #expect(throws: ServerError.self) { try ServerConfiguration.resolve(flags: tls, environment: [:]) }
        #expect(throws: ServerError.self) { try ServerConfiguration.resolve(flags: ServerFlags(), environment: ["LLMLAB_LOG_LEVEL": "loud"]) }
        var missing = ServerFlags()
        missing.configFile = "/nonexistent/server.json"
        #expect(throws: ServerError.self) { try ServerConfiguration.resolve(flags: missing, environment: [:]) }
    }
}
