import AsyncHTTPClient
import Foundation
import Hummingbird
import LLMLabCore
@testable import LLMLabGateway
import LLMLabSecurity
import LLMLabStore
import LLMLabTestSupport
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceLifecycle

/// A real proxy for one test: its own database on the shared test cluster with a tenant,
/// a project holding an OpenAI key, and API keys of every interesting kind; the gateway on
/// a loopback port pointed at a ``FakeOpenAI``, a ``FakeAnthropic`` and a ``FakeGemini``
/// on others; and an AsyncHTTPClient to call it. Nothing is mocked.
///
/// Besides the main project (OpenAI only, which the older tests rely on), the tenant has a
/// multi-provider project (``multi``): an OpenAI, an Anthropic and a Gemini key (each
/// named `default`) and two Azure OpenAI keys whose endpoint is the FakeOpenAI root —
/// `prod` (deployment ``MultiProject/azureDeployment``, api version `2024-10-21`) and `v1`
/// (deployment ``MultiProject/azureV1Deployment``, api version `v1`). It allows
/// Azure OpenAI first (so a model equal to a deployment name goes to Azure even when it
/// looks like an OpenAI model), then OpenAI, Anthropic, Gemini. A third project holds only
/// an Anthropic key (``MultiProject/anthropicOnlyKey``).
struct GatewayHarness: Sendable {
    let database: TestDatabase
    let fake: FakeOpenAI
    let anthropic: FakeAnthropic
    let gemini: FakeGemini
    /// The tenant's data keys are wrapped with this (for tests that seed another tenant).
    let vault: KeyVault
    let multi: MultiProject
    let gateway: Gateway
    let client: HTTPClient
    let port: Int
    let tenantID: UUID
    let projectID: UUID
    /// The plaintext of the project's OpenAI key, as the fake must receive it.
    let openAISecret: String
    /// `proxy` scope, scoped to the project.
    let proxyKey: String
    /// Scoped to the project, but only `control`.
    let controlKey: String
    /// `proxy` scope but no project.
    let unscopedKey: String
    /// `proxy` scope, scoped to a second project that has no provider key.
    let keylessProjectKey: String

    static let logger: Logger = {
        var logger = Logger(label: "llmlab.test.gateway")
        logger.logLevel = ProcessInfo.processInfo.environment["LLMLAB_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func with<R: Sendable>(
        _ label: String = #function,
        configure: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        usageDatabase: (@Sendable (Database) -> Database)? = nil,
        traceReceiver: (any TraceExportReceiver)? = nil,
        _ body: @Sendable (GatewayHarness) async throws -> R
    ) async throws -> R {
        let database = try await TestPostgres.makeDatabase(label: label)
        do {
            let result = try await run(database: database, configure: configure, usageDatabase: usageDatabase,
                                       traceReceiver: traceReceiver, body)
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }

    private static func run<R: Sendable>(
        database: TestDatabase, configure: @Sendable (inout GatewayConfiguration) -> Void,
        usageDatabase: (@Sendable (Database) -> Database)?,
        traceReceiver: (any TraceExportReceiver)?,
        _ body: @Sendable (GatewayHarness) async throws -> R
    ) async throws -> R {
        let logger = Self.logger
        let vault = KeyVault(masterKey: MasterKey.generate())
        let seed = try await Seed.create(in: database.database, vault: vault, logger: logger)
        let fake = FakeOpenAI()
        let anthropic = FakeAnthropic()
        let gemini = FakeGemini()
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            let result = try await withThrowingTaskGroup(of: Void.self) { group in
                let (fakePorts, fakePort) = AsyncStream<Int>.makeStream()
                group.addTask { try await fake.buildApplication(onPort: { fakePort.yield($0) }).run() }
                guard let upstreamPort = await fakePorts.first(where: { _ in true }) else { throw HarnessError("fake OpenAI did not start") }
                let (anthropicPorts, anthropicPort) = AsyncStream<Int>.makeStream()
                group.addTask { try await anthropic.buildApplication(onPort: { anthropicPort.yield($0) }).run() }
                guard let anthropicUpstreamPort = await anthropicPorts.first(where: { _ in true }) else { throw HarnessError("fake Anthropic did not start") }
                let (geminiPorts, geminiPort) = AsyncStream<Int>.makeStream()
                group.addTask { try await gemini.buildApplication(onPort: { geminiPort.yield($0) }).run() }
                guard let geminiUpstreamPort = await geminiPorts.first(where: { _ in true }) else { throw HarnessError("fake Gemini did not start") }
                let multi = try await MultiProject.create(in: database.database, vault: vault, tenantID: seed.tenantID,
                                                          azureEndpoint: "http://127.0.0.1:\(upstreamPort)", logger: logger)

                var configuration = GatewayConfiguration()
                configuration.port = 0
                configuration.providerBaseURLs.openAI = "http://127.0.0.1:\(upstreamPort)/v1/"
                configuration.providerBaseURLs.anthropic = "http://127.0.0.1:\(anthropicUpstreamPort)/v1"
                configuration.providerBaseURLs.gemini = "http://127.0.0.1:\(geminiUpstreamPort)/v1beta"
                configuration.healthCheckTimeout = .seconds(2)
                // One same-deployment retry, quickly; the fakes' `retry-after: 7` is longer than
                // the proxy waits here, so a 429 is answered (or fallen back from) at once.
                configuration.retry.initialBackoff = .milliseconds(10)
                configuration.retry.maxRetryAfter = .seconds(1)
                configuration.usageSpoolDirectory = FileManager.default.temporaryDirectory
                    .appendingPathComponent("llmlab-spool-\(UUID().uuidString)").path
                configure(&configuration)
                // The usage writer's database: the test's, or one the test supplies (e.g. unreachable).
                let writerDatabase = usageDatabase?(database.database) ?? database.database
                if writerDatabase !== database.database {
                    group.addTask { await writerDatabase.run() }
                }
                var writerConfiguration = UsageWriter.Configuration(spoolDirectory: configuration.usageSpoolDirectory)
                writerConfiguration.writeTimeout = .seconds(2)
                let writer = UsageWriter(database: writerDatabase, configuration: writerConfiguration, logger: logger)
                let gateway = Gateway(database: database.database, keyVault: vault, configuration: configuration, logger: logger,
                                      usageWriter: writer, traceReceiver: traceReceiver)
                group.addTask { try await writer.run() }
                let (gatewayPorts, gatewayPort) = AsyncStream<Int>.makeStream()
                let application = try gateway.buildApplication(onServerRunning: { gatewayPort.yield($0) })
                group.addTask { try await application.run() }
                guard let port = await gatewayPorts.first(where: { _ in true }) else { throw HarnessError("gateway did not start") }

                let harness = GatewayHarness(
                    database: database, fake: fake, anthropic: anthropic, gemini: gemini, vault: vault, multi: multi, gateway: gateway, client: client, port: port, tenantID: seed.tenantID,
                    projectID: seed.projectID, openAISecret: seed.openAISecret, proxyKey: seed.proxyKey,
                    controlKey: seed.controlKey, unscopedKey: seed.unscopedKey, keylessProjectKey: seed.keylessProjectKey)
                defer { group.cancelAll() }
                return try await body(harness)
            }
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Lets the proxy's database role connect, or refuses it and ends its connections
    /// (as an administrator), to test behaviour while the database is unreachable.
    /// Tells the proxy's caches that configuration changed behind its back (the control
    /// plane does this after every mutating call).
    func configurationChanged() {
        database.database.changes.bump()
    }

    func setDatabaseReachable(_ reachable: Bool) async throws {
        let name = database.name
        try await database.adminConfiguration.withStandaloneConnection(logger: Self.logger) { connection in
            let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            try await connection.query("ALTER DATABASE \(unescaped: quoted) CONNECTION LIMIT \(unescaped: reachable ? "-1" : "0")",
                                       logger: Self.logger)
            if !reachable {
                try await connection.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name) AND pid <> pg_backend_pid()",
                    logger: Self.logger)
            }
        }
    }

    // MARK: Calls

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:]
        }
        /// `error` of an OpenAI-style error body.
        var error: [String: Any] {
            (json["error"] as? [String: Any]) ?? [:]
        }
    }

    func request(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        return request
    }

    func send(_ request: HTTPClientRequest) async throws -> Reply {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    func get(_ path: String, key: String? = nil) async throws -> Reply {
        try await send(request(.GET, path, headers: key.map { [("authorization", "Bearer \($0)")] } ?? []))
    }

    func chat(_ body: String, key: String? = nil) async throws -> Reply {
        try await send(request(.POST, "/v1/chat/completions", headers: [("authorization", "Bearer \(key ?? proxyKey)")], body: body))
    }

    static func chatBody(model: String = "gpt-4o-mini", stream: Bool? = nil, extra: String = "") -> String {
        var body = #"{"model":"\#(model)","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}],"temperature":0.7,"seed":9007199254740993"#
        if let stream { body += #","stream":\#(stream)"# }
        return body + extra + "}"
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The rows a proxy test needs, created the way the control plane creates them:
/// repositories in control and tenant transactions, the tenant schema provisioned, the
/// provider key sealed under the tenant's data key with the tenant/key associated data.
struct Seed: Sendable {
    var tenantID: UUID
    var projectID: UUID
    var openAISecret: String
    var proxyKey: String
    var controlKey: String
    var unscopedKey: String
    var keylessProjectKey: String

    static func create(in database: Database, vault: KeyVault, slug: String = "acme", logger: Logger) async throws -> Seed {
        let tenantID = UUID()
        let (dataKey, wrapped) = try vault.newDataKey(tenantID: tenantID.uuidString.lowercased())
        let tenant = try await database.withControlTransaction { connection in
            let tenant = try await TenantRepository(connection, logger: logger).insert(
                id: tenantID, slug: slug, displayName: slug.capitalized, wrappedDataKey: Data(wrapped))
            try await TenantSchemaProvisioner.provision(tenant.scope, on: connection, logger: logger)
            return tenant
        }
        let projectID = UUID()
        let keylessProjectID = UUID()
        let secret = "sk-proj-fake-\(UUID().uuidString.lowercased())"
        try await database.withTenantTransaction(tenant.scope) { connection in
            let projects = ProjectRepository(connection, logger: logger)
            _ = try await projects.insert(id: projectID, name: "Support bot", budget: nil, allowedProviders: [.openai])
            _ = try await projects.insert(id: keylessProjectID, name: "Empty", budget: nil, allowedProviders: [])
            let keyID = UUID()
            let sealed = try dataKey.seal(secret, associatedData: ProviderKeyBinding.associatedData(tenantID: tenantID, keyID: keyID))
            _ = try await ProviderKeyRepository(connection, logger: logger).insert(ProviderKeyRecord(
                id: keyID, projectID: projectID, provider: .openai, name: "default", sealedSecret: Data(sealed),
                lastFour: String(secret.suffix(4))))
        }
        func apiKey(_ name: String, project: UUID?, scopes: [String]) async throws -> String {
            let token = SecretToken.issue(.apiKey)
            try await database.withControlTransaction { connection in
                _ = try await ApiKeyRepository(connection, logger: logger).insert(ApiKeyRecord(
                    id: UUID(), tenantID: tenantID, name: name, prefix: token.displayPrefix, role: .member, projectID: project,
                    scopes: scopes, createdBy: "test", expiresAt: nil), secretHash: token.sha256Hex)
            }
            return token.secret
        }
        return Seed(
            tenantID: tenantID, projectID: projectID, openAISecret: secret,
            proxyKey: try await apiKey("app", project: projectID, scopes: [ApiKeyScope.proxy]),
            controlKey: try await apiKey("ci", project: projectID, scopes: [ApiKeyScope.control]),
            unscopedKey: try await apiKey("everywhere", project: nil, scopes: [ApiKeyScope.proxy]),
            keylessProjectKey: try await apiKey("empty", project: keylessProjectID, scopes: [ApiKeyScope.proxy]))
    }
}

/// The harness tenant's multi-provider project (see ``GatewayHarness``), its provider key
/// plaintexts (as the fakes must receive them) and a proxy key scoped to it.
struct MultiProject: Sendable {
    static let azureDeployment = "gpt-4o-mini-prod"
    static let azureAPIVersion = "2024-10-21"
    static let azureV1Deployment = "gpt-4o-mini-v1dep"

    var projectID: UUID
    /// `proxy` scope, scoped to the multi-provider project.
    var proxyKey: String
    var openAISecret: String
    var anthropicSecret: String
    var geminiSecret: String
    var azureSecret: String
    var azureV1Secret: String
    /// Provider key ids: `openai`, `anthropic`, `gemini`, `azure` (prod), `azure-v1`.
    var keyIDs: [String: UUID]
    /// A project holding only an Anthropic key, and a proxy key scoped to it.
    var anthropicOnlyProjectID: UUID
    var anthropicOnlyKey: String

    static func create(in database: Database, vault: KeyVault, tenantID: UUID, azureEndpoint: String,
                       logger: Logger) async throws -> MultiProject {
        let tenant = try await database.withControlTransaction { connection in
            try await TenantRepository(connection, logger: logger).find(id: tenantID)
        }
        guard let wrapped = tenant?.wrappedDataKey else { throw HarnessError("the harness tenant is missing") }
        let dataKey = try vault.unwrap([UInt8](wrapped), tenantID: tenantID.uuidString.lowercased())
        let projectID = UUID()
        let anthropicOnlyProjectID = UUID()
        func secret(_ prefix: String) -> String { "\(prefix)-fake-\(UUID().uuidString.lowercased())" }
        let secrets = (openAI: secret("sk-proj"), anthropic: secret("sk-ant-api03"), gemini: secret("AIzaSy"),
                       azure: secret("azure"), azureV1: secret("azure-v1"), anthropicOnly: secret("sk-ant-api03"))
        var keyIDs: [String: UUID] = [:]
        for name in ["openai", "anthropic", "gemini", "azure", "azure-v1", "anthropic-only"] { keyIDs[name] = UUID() }
        let ids = keyIDs
        try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
            let projects = ProjectRepository(connection, logger: logger)
            _ = try await projects.insert(id: projectID, name: "Multi", budget: nil,
                                          allowedProviders: [.azureOpenAI, .openai, .anthropic, .gemini])
            _ = try await projects.insert(id: anthropicOnlyProjectID, name: "Claude only", budget: nil, allowedProviders: [.anthropic])
            let keys = ProviderKeyRepository(connection, logger: logger)
            func insert(_ slot: String, project: UUID, _ provider: Provider, name: String, _ plaintext: String,
                        deployment: String = "", apiVersion: String = "") async throws {
                let id = ids[slot]!
                let sealed = try dataKey.seal(plaintext, associatedData: ProviderKeyBinding.associatedData(tenantID: tenantID, keyID: id))
                _ = try await keys.insert(ProviderKeyRecord(
                    id: id, projectID: project, provider: provider, name: name, sealedSecret: Data(sealed),
                    lastFour: String(plaintext.suffix(4)), azureEndpoint: provider == .azureOpenAI ? azureEndpoint : "",
                    azureDeployment: deployment, azureAPIVersion: apiVersion))
            }
            try await insert("openai", project: projectID, .openai, name: "default", secrets.openAI)
            try await insert("anthropic", project: projectID, .anthropic, name: "default", secrets.anthropic)
            try await insert("gemini", project: projectID, .gemini, name: "default", secrets.gemini)
            try await insert("azure", project: projectID, .azureOpenAI, name: "prod", secrets.azure,
                             deployment: azureDeployment, apiVersion: azureAPIVersion)
            try await insert("azure-v1", project: projectID, .azureOpenAI, name: "v1", secrets.azureV1,
                             deployment: azureV1Deployment, apiVersion: "v1")
            try await insert("anthropic-only", project: anthropicOnlyProjectID, .anthropic, name: "default", secrets.anthropicOnly)
        }
        func apiKey(_ name: String, project: UUID) async throws -> String {
            let token = SecretToken.issue(.apiKey)
            try await database.withControlTransaction { connection in
                _ = try await ApiKeyRepository(connection, logger: logger).insert(ApiKeyRecord(
                    id: UUID(), tenantID: tenantID, name: name, prefix: token.displayPrefix, role: .member, projectID: project,
                    scopes: [ApiKeyScope.proxy], createdBy: "test", expiresAt: nil), secretHash: token.sha256Hex)
            }
            return token.secret
        }
        return MultiProject(
            projectID: projectID, proxyKey: try await apiKey("multi", project: projectID),
            openAISecret: secrets.openAI, anthropicSecret: secrets.anthropic, geminiSecret: secrets.gemini,
            azureSecret: secrets.azure, azureV1Secret: secrets.azureV1, keyIDs: keyIDs,
            anthropicOnlyProjectID: anthropicOnlyProjectID,
            anthropicOnlyKey: try await apiKey("claude-only", project: anthropicOnlyProjectID))
    }
}
