import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabServer
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import Logging
import SwiftProtobuf

/// A real control plane for one test: its own database on the shared test cluster, the
/// gRPC server on a loopback port with TLS from a fresh development CA, and a client that
/// trusts that CA. Nothing is mocked.
struct TestControlPlane: Sendable {
    let database: TestDatabase
    let plane: ControlPlane
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    let masterKey: MasterKey
    let operatorToken: String
    let port: Int
    let caFile: String

    static let logger: Logger = {
        var logger = Logger(label: "llmlab.test")
        logger.logLevel = ProcessInfo.processInfo.environment["LLMLAB_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// Runs `body` against a fresh control plane and tears everything down afterwards.
    static func with<R: Sendable>(
        _ label: String = #function, configuration: ControlPlane.Configuration = .testing,
        _ body: @Sendable (TestControlPlane) async throws -> R
    ) async throws -> R {
        let logger = Self.logger
        let database = try await TestPostgres.makeDatabase(label: label)
        let masterKey = MasterKey.generate()
        // OTLP Export served as in production, with spans written straight to the store.
        let traceIngest = TraceIngest(database: database.database, sink: DirectSpanSink(database: database.database, logger: logger),
                                      overrides: PriceOverrideCache(database: database.database, logger: logger), logger: logger)
        let plane = ControlPlane(database: database.database, passwordHasher: PasswordHasher(),
                                 keyVault: KeyVault(masterKey: masterKey), logger: logger, configuration: configuration,
                                 traceIngest: traceIngest)
        let tls = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-tls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: tls) }
        var grpc = ServerConfiguration.GRPC.defaults
        grpc.port = 0
        let (security, _) = try GRPCListener.security(for: grpc, tlsDirectory: tls, logger: logger)
        let server = GRPCListener.makeServer(host: "127.0.0.1", port: 0, security: security,
                                             services: plane.services, interceptors: plane.interceptors)
        let operatorToken = SecretToken.issue(.operator)
        try await database.database.withControlTransaction { connection in
            try await OperatorTokenRepository(connection, logger: logger).insert(id: UUID(), name: "test", tokenHash: operatorToken.sha256Hex)
        }
        do {
            let result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                guard let address = try await server.listeningAddress?.ipv4 else {
                    throw RPCError(code: .internalError, message: "server did not bind")
                }
                let caFile = tls + "/ca.pem"
                let transport = try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: "127.0.0.1", port: address.port),
                    transportSecurity: .tls {
                        $0.trustRoots = .certificates([.file(path: caFile, format: .pem)])

                    })
                let client = GRPCClient(transport: transport)
                group.addTask { try await client.runConnections() }
                let harness = TestControlPlane(database: database, plane: plane, client: client, masterKey: masterKey,
                                               operatorToken: operatorToken.secret, port: address.port, caFile: caFile)
                defer {
                    plane.shutdown.fire()
                    client.beginGracefulShutdown()
                    server.beginGracefulShutdown()
                }
                return try await body(harness)
            }
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// Metadata carrying a bearer token.
    static func auth(_ token: String) -> Metadata {
        ["authorization": "Bearer \(token)"]
    }

    var operatorAuth: Metadata { Self.auth(operatorToken) }

    var tenants: Llmlab_V1_TenantService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var auth: Llmlab_V1_AuthService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var users: Llmlab_V1_UserService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var projects: Llmlab_V1_ProjectService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var providerKeys: Llmlab_V1_ProviderKeyService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var audit: Llmlab_V1_AuditService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var traces: Llmlab_V1_TraceQueryService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var alerts: Llmlab_V1_AlertService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var health: Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }

    /// A tenant with an owner who is signed in.
    struct Tenant: Sendable {
        var slug: String
        var id: String
        var ownerID: String
        var ownerEmail: String
        var ownerToken: String
        var ownerAuth: Metadata { TestControlPlane.auth(ownerToken) }
    }

    static let password = "correct horse battery staple"

    func makeTenant(_ slug: String) async throws -> Tenant {
        let email = "owner@\(slug).example"
        let created = try await tenants.createTenant(.with {
            $0.slug = slug
            $0.displayName = slug.capitalized
            $0.ownerEmail = email
            $0.ownerPassword = Self.password
        }, metadata: operatorAuth)
        let token = try await login(slug, email, Self.password)
        return Tenant(slug: slug, id: created.tenant.id, ownerID: created.ownerUserID, ownerEmail: email, ownerToken: token)
    }

    func login(_ slug: String, _ email: String, _ password: String) async throws -> String {
        try await auth.login(.with {
            $0.tenant = slug
            $0.email = email
            $0.password = password
        }).sessionToken
    }

    /// Adds a user with `role` to `tenant` and signs them in.
    func signedInUser(_ tenant: Tenant, role: Llmlab_V1_Role, email: String? = nil) async throws -> (id: String, token: String) {
        let email = email ?? "\(role)-\(UUID().uuidString.prefix(8))@\(tenant.slug).example".lowercased()
        let user = try await users.addUser(.with {
            $0.email = email
            $0.password = Self.password
            $0.role = role
        }, metadata: tenant.ownerAuth)
        return (user.id, try await login(tenant.slug, email, Self.password))
    }
}

/// The gRPC status code of whatever `body` throws, or `nil` when it succeeds.
func rpcCode(_ body: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// The error `body` throws as an RPCError (fails the test when it succeeds).
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "\(error)")
    }
}

/// Writes exported spans synchronously in one tenant transaction (the server batches them
/// through its span writer; tests want them readable as soon as Export returns).
struct DirectSpanSink: SpanSink {
    let database: Database
    let logger: Logger

    func accept(_ spans: [NormalizedSpan], tenant: TenantIngest) async throws {
        let logger = logger
        try await database.withTenantTransaction(TenantScope(tenantID: tenant.tenantID)) { connection in
            _ = try await SpanRepository(connection, logger: logger).insert(spans)
        }
    }
}

extension ControlPlane.Configuration {
    /// The defaults, plus custom billing endpoints (the billing tests point connections at
    /// fake provider servers on loopback).
    static var testing: Self {
        var configuration = Self.defaults
        configuration.allowCustomBillingEndpoints = true
        return configuration
    }
}
