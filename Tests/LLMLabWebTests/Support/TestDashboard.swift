import Foundation
import GRPCCore
import GRPCInProcessTransport
import Hummingbird
import HummingbirdTesting
import LLMLabAPI
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import LLMLabTestSupport
import LLMLabWeb
import Logging
import SwiftProtobuf

/// A real control plane on its own test database, served over the in-process transport as
/// in the server, and the dashboard's routes on a Hummingbird router built on a client of
/// it. Nothing is mocked: pages make the same RPCs the server's dashboard makes.
struct TestDashboard: Sendable {
    let database: TestDatabase
    let plane: ControlPlane
    let client: GRPCClient<InProcessTransport.Client>
    let operatorToken: String

    static let logger: Logger = {
        var logger = Logger(label: "llmlab.web.test")
        logger.logLevel = ProcessInfo.processInfo.environment["LLMLAB_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    static let password = "correct horse battery staple"

    static func with<R: Sendable>(
        _ label: String = #function, configuration: ControlPlane.Configuration = .defaults,
        _ body: @Sendable (TestDashboard) async throws -> R
    ) async throws -> R {
        let logger = Self.logger
        let database = try await TestPostgres.makeDatabase(label: "web-" + label)
        let plane = ControlPlane(database: database.database, passwordHasher: PasswordHasher(),
                                 keyVault: KeyVault(masterKey: MasterKey.generate()), logger: logger, configuration: configuration)
        let inProcess = InProcessTransport()
        let server = GRPCServer(transport: inProcess.server, services: plane.services, interceptors: plane.interceptors)
        let client = GRPCClient(transport: inProcess.client)
        let operatorToken = SecretToken.issue(.operator)
        do {
            try await database.database.withControlTransaction { connection in
                try await OperatorTokenRepository(connection, logger: logger).insert(id: UUID(), name: "test", tokenHash: operatorToken.sha256Hex)
            }
            let result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                group.addTask { try await client.runConnections() }
                defer {
                    client.beginGracefulShutdown()
                    server.beginGracefulShutdown()
                }
                return try await body(TestDashboard(database: database, plane: plane, client: client, operatorToken: operatorToken.secret))
            }
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// The dashboard on a router, mounted at /ui as the gateway mounts it.
    func application(secureCookies: Bool = false) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        var configuration = DashboardController<BasicRequestContext, InProcessTransport.Client>.Configuration.defaults
        configuration.secureCookies = secureCookies
        router.addRoutes(DashboardController<BasicRequestContext, InProcessTransport.Client>(
            client: client, configuration: configuration, logger: Self.logger).routes, atPath: "/ui")
        return Application(router: router)
    }

    /// Runs `body` with a browser on the dashboard (no network: Hummingbird's router tester).
    func browse<R: Sendable>(secureCookies: Bool = false, _ body: @escaping @Sendable (Browser) async throws -> R) async throws -> R {
        try await application(secureCookies: secureCookies).test(.router) { client in
            try await body(Browser(client: client))
        }
    }

    // MARK: RPC clients for seeding

    static func auth(_ token: String) -> Metadata { ["authorization": "Bearer \(token)"] }
    var operatorAuth: Metadata { Self.auth(operatorToken) }
    var tenants: Llmlab_V1_TenantService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var auth: Llmlab_V1_AuthService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var users: Llmlab_V1_UserService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var projects: Llmlab_V1_ProjectService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var providerKeys: Llmlab_V1_ProviderKeyService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var routes: Llmlab_V1_RouteService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var alerts: Llmlab_V1_AlertService.Client<InProcessTransport.Client> { .init(wrapping: client) }
    var billing: Llmlab_V1_BillingService.Client<InProcessTransport.Client> { .init(wrapping: client) }

    struct Tenant: Sendable {
        var slug: String
        var id: String
        var uuid: UUID { UUID(uuidString: id)! }
        var ownerEmail: String
        var ownerToken: String
        var ownerAuth: Metadata { TestDashboard.auth(ownerToken) }
    }

    func makeTenant(_ slug: String) async throws -> Tenant {
        let email = "owner@\(slug).example"
        let created = try await tenants.createTenant(.with {
            $0.slug = slug
            $0.displayName = slug.capitalized
            $0.ownerEmail = email
            $0.ownerPassword = Self.password
        }, metadata: operatorAuth)
        let token = try await auth.login(.with {
            $0.tenant = slug
            $0.email = email
            $0.password = Self.password
        }).sessionToken
        return Tenant(slug: slug, id: created.tenant.id, ownerEmail: email, ownerToken: token)
    }

    /// A user of `role` in `tenant`; returns the email (password: ``password``).
    func addUser(_ tenant: Tenant, role: Llmlab_V1_Role) async throws -> String {
        let email = "\(role)-\(UUID().uuidString.prefix(6))@\(tenant.slug).example".lowercased()
        _ = try await users.addUser(.with {
            $0.email = email
            $0.password = Self.password
            $0.role = role
        }, metadata: tenant.ownerAuth)
        return email
    }

    /// Usage events written through the store's repository (which maintains the rollup).
    func seedUsage(_ events: [UsageEventRecord], tenant: Tenant) async throws {
        _ = try await database.database.withTenantTransaction(TenantScope(tenantID: tenant.uuid)) { connection in
            try await UsageEventRepository(connection, logger: Self.logger).insert(events)
        }
    }

    static func event(_ tenant: Tenant, _ id: String, project: String, at: Date, model: String = "gpt-4o", provider: String = "openai",
                      cost: String?, latency: Int32 = 120, status: Int32 = 200, key: UUID? = nil) -> UsageEventRecord {
        UsageEventRecord(tenantID: tenant.uuid, requestID: id, occurredAt: at, projectID: UUID(uuidString: project)!, apiKeyID: key ?? UUID(),
                         provider: provider, model: model, inputTokens: 100, outputTokens: 10, costUSD: cost,
                         unpricedReason: cost == nil ? "unknown_model: not in the catalog" : "", latencyMs: latency,
                         status: status, streamed: false)
    }
}

/// A browser on the dashboard: keeps cookies, sends forms, reads pages.
final class Browser: @unchecked Sendable {
    // @unchecked: one test drives one browser sequentially; it is never shared across tasks.
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    init(client: any TestClientProtocol) { self.client = client }

    struct Page: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
        var setCookies: [String] { headers[values: .setCookie] }
        var location: String? { headers[.location] }

        /// The first form's CSRF token on the page.
        var csrf: String? {
            guard let range = body.range(of: "name=\"_csrf\" value=\"") else { return nil }
            let rest = body[range.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }

        func contains(_ text: String) -> Bool { body.contains(text) }
    }

    @discardableResult
    func get(_ path: String) async throws -> Page {
        try await send(path, method: .get, body: nil)
    }

    /// Posts a form; `csrf` nil sends none.
    @discardableResult
    func post(_ path: String, _ fields: [(String, String)]) async throws -> Page {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(path, method: .post, body: body)
    }

    private func send(_ path: String, method: HTTPRequest.Method, body: String?) async throws -> Page {
        var headers = HTTPFields()
        if !cookies.isEmpty {
            headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
        }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers,
                                                       body: body.map { ByteBuffer(string: $0) })
        let page = Page(status: response.status, headers: response.headers, body: String(buffer: response.body))
        for cookie in page.setCookies {
            let pair = cookie.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            let expired = cookie.contains("Max-Age=0")
            cookies[name] = expired || value.isEmpty ? nil : value
        }
        return page
    }

    /// Signs in through the login form (GET for its CSRF cookie, then POST).
    @discardableResult
    func signIn(tenant: String, email: String, password: String = TestDashboard.password) async throws -> Page {
        let form = try await get("/ui/login")
        return try await post("/ui/login", [("_csrf", form.csrf ?? ""), ("tenant", tenant), ("email", email), ("password", password)])
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
