import Foundation
import LLMLabTestSupport
import NIOHTTP1
@testable import LLMLabGateway
import LLMLabStore
import Testing

/// Virtual-key authentication on `/v1/*`: the statuses and OpenAI-style bodies the
/// official SDKs turn into `AuthenticationError` (401) and `PermissionDeniedError` (403).
@Suite("Proxy authentication")
struct AuthenticationTests {
    @Test("missing, malformed, unknown, wrong-scope and project-less keys are refused with OpenAI-style errors")
    func refusals() async throws {
        try await GatewayHarness.with { harness in
            let body = GatewayHarness.chatBody()

            let none = try await harness.send(harness.request(.POST, "/v1/chat/completions", body: body))
            #expect(none.status == 401)
            #expect(none.error["type"] as? String == "authentication_error")
            #expect(none.error["code"] as? String == "missing_api_key")
            #expect(none.json["error"].map { ($0 as? [String: Any])?.keys.contains("param") ?? false } == true)
            #expect(none.headers.first(name: "content-type") == "application/json")
            #expect(none.headers.first(name: "x-llmlab-request-id")?.hasPrefix("req_") == true)

            let providerKey = try await harness.chat(body, key: "sk-proj-not-an-llmlab-key")
            #expect(providerKey.status == 401)
            #expect(providerKey.error["code"] as? String == "invalid_api_key")
            #expect(!providerKey.body.contains("sk-proj-not-an-llmlab-key"))

            let unknown = try await harness.chat(body, key: "llk_" + String(repeating: "A", count: 43))
            #expect(unknown.status == 401)
            #expect(unknown.error["type"] as? String == "authentication_error")
            #expect(unknown.error["code"] as? String == "invalid_api_key")

            let control = try await harness.chat(body, key: harness.controlKey)
            #expect(control.status == 403)
            #expect(control.error["type"] as? String == "permission_error")
            #expect(control.error["code"] as? String == "missing_scope")

            let unscoped = try await harness.chat(body, key: harness.unscopedKey)
            #expect(unscoped.status == 403)
            #expect(unscoped.error["code"] as? String == "project_required")
            #expect((unscoped.error["message"] as? String)?.contains("project-scoped key") == true)

            // None of them reached the provider.
            #expect(harness.fake.received.isEmpty)
        }
    }

    @Test("x-api-key works like Authorization: Bearer")
    func xAPIKey() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.send(harness.request(
                .POST, "/v1/chat/completions", headers: [("x-api-key", harness.proxyKey)], body: GatewayHarness.chatBody()))
            #expect(reply.status == 200)
        }
    }

    @Test("a suspended tenant's keys get 403 until it is resumed")
    func suspendedTenant() async throws {
        try await GatewayHarness.with { harness in
            try await harness.database.database.withControlTransaction { connection in
                _ = try await TenantRepository(connection, logger: GatewayHarness.logger)
                    .setStatus(id: harness.tenantID, .suspended, reason: "unpaid invoice")
            }
            harness.configurationChanged()
            let refused = try await harness.chat(GatewayHarness.chatBody())
            #expect(refused.status == 403)
            #expect(refused.error["code"] as? String == "tenant_suspended")
            try await harness.database.database.withControlTransaction { connection in
                _ = try await TenantRepository(connection, logger: GatewayHarness.logger).setStatus(id: harness.tenantID, .active, reason: "")
            }
            harness.configurationChanged()
            #expect(try await harness.chat(GatewayHarness.chatBody()).status == 200)
        }
    }

    @Test("the credential is read from Authorization: Bearer (any case) or x-api-key")
    func credentialParsing() {
        #expect(VirtualKeyAuthenticator.credential(authorization: "Bearer llk_x", apiKey: nil) == "llk_x")
        #expect(VirtualKeyAuthenticator.credential(authorization: "bearer  llk_x ", apiKey: nil) == "llk_x")
        #expect(VirtualKeyAuthenticator.credential(authorization: "Basic abc", apiKey: "llk_y") == "llk_y")
        #expect(VirtualKeyAuthenticator.credential(authorization: nil, apiKey: nil) == nil)
        #expect(VirtualKeyAuthenticator.credential(authorization: "Bearer ", apiKey: " ") == nil)
    }
}
