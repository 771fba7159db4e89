import AsyncHTTPClient
import Foundation
import GRPCCore
import LLMLabGateway
import LLMLabProto
import LLMLabSecurity
@testable import LLMLabServer
import LLMLabTestSupport
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SwiftProtobuf
import Testing

/// The dashboard as the server wires it: ``DashboardComposition`` (its own in-process gRPC
/// server and client) in a ServiceGroup, mounted at /ui on the gateway's real HTTP
/// listener, reached over a socket. Checks the mount, that the proxy's routes keep their
/// key check, the browser's address reaching the control plane, and graceful shutdown.
@Suite("Dashboard on the HTTP listener")
struct GatewayMountTests {
    @Test("sign in and render over a real socket; the audit names the browser's address; /v1 still needs a key")
    func mounted() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-mount")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-web-mount-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var configuration = GatewayConfiguration()
            configuration.port = 0
            configuration.usageSpoolDirectory = directory + "/spool"
            let composition = DashboardComposition(plane: dash.plane, secureCookies: false, logger: TestDashboard.logger)
            let gateway = Gateway(database: dash.database.database, keyVault: KeyVault(masterKey: MasterKey.generate()),
                                  configuration: configuration, logger: TestDashboard.logger, additionalRoutes: [composition.routes])
            let (ports, port) = AsyncStream<Int>.makeStream()
            let application = try gateway.buildApplication(onServerRunning: { port.yield($0) })
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: composition.service), .init(service: application)], logger: TestDashboard.logger))
            var clientConfiguration = HTTPClient.Configuration()
            clientConfiguration.redirectConfiguration = .disallow
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
            do {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    let bound = try #require(await ports.first { _ in true })
                    let base = "http://127.0.0.1:\(bound)"

                    func send(_ path: String, method: HTTPMethod = .GET, cookies: [String] = [], form: String? = nil)
                        async throws -> (HTTPClientResponse, String)
                    {
                        var request = HTTPClientRequest(url: base + path)
                        request.method = method
                        if !cookies.isEmpty { request.headers.add(name: "cookie", value: cookies.joined(separator: "; ")) }
                        if let form {
                            request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
                            request.body = .bytes(ByteBuffer(string: form))
                        }
                        let response = try await client.execute(request, timeout: .seconds(20))
                        let body = try await response.body.collect(upTo: 1 << 22)
                        return (response, String(buffer: body))
                    }
                    func cookie(_ response: HTTPClientResponse, _ name: String) -> String? {
                        response.headers["set-cookie"].first { $0.hasPrefix(name + "=") }.map { String($0.prefix { $0 != ";" }) }
                    }

                    let (root, _) = try await send("/ui")
                    #expect(root.status == .seeOther && root.headers.first(name: "location") == "/ui/login")
                    let (form, formBody) = try await send("/ui/login")
                    #expect(form.status == .ok && form.headers.first(name: "x-frame-options") == "DENY")
                    let loginCookie = try #require(cookie(form, "llmlab_login_csrf"))
                    let csrf = try #require(formBody.range(of: "name=\"_csrf\" value=\"").map { formBody[$0.upperBound...].prefix { $0 != "\"" } })
                    let fields = "_csrf=\(csrf)&tenant=\(tenant.slug)&email=\(Browser.encode(tenant.ownerEmail))&password=\(Browser.encode(TestDashboard.password))"
                    let (login, _) = try await send("/ui/login", method: .POST, cookies: [loginCookie], form: fields)
                    #expect(login.status == .seeOther && login.headers.first(name: "location") == "/ui")
                    let session = try #require(cookie(login, "llmlab_session"))

                    let (overview, page) = try await send("/ui", cookies: [session])
                    #expect(overview.status == .ok && page.contains("data-testid=\"spend-month-total\""))
                    #expect(overview.headers.first(name: "server-timing")?.hasPrefix("app;dur=") == true)
                    #expect(overview.headers.first(name: "content-security-policy")?.contains("default-src 'self'") == true)
                    let (css, _) = try await send("/ui/static/app.css")
                    #expect(css.status == .ok)

                    // The proxy's routes still demand a virtual key.
                    let (models, _) = try await send("/v1/models")
                    #expect(models.status == .unauthorized)

                    // The login's audit row names the browser, not the in-process peer.
                    let audit = Llmlab_V1_AuditService.Client(wrapping: dash.client)
                    let events = try await audit.listAuditEvents(.with { $0.action = "llmlab.v1.AuthService/Login" },
                                                                 metadata: tenant.ownerAuth).events
                    #expect(events.contains { $0.detail.contains("client:127.0.0.1") })
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }
}
