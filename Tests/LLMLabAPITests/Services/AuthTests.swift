import Foundation
import GRPCCore
import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Authentication and API keys")
struct AuthTests {
    @Test("login, whoami, logout ends the session")
    func sessions() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("auth-co")
            #expect(t.ownerToken.hasPrefix("lls_"))
            let me = try await cp.auth.whoAmI(.init(), metadata: t.ownerAuth)
            #expect(me.kind == .user)
            #expect(me.email == t.ownerEmail)
            #expect(me.role == .owner)
            #expect(me.tenantSlug == "auth-co")
            _ = try await cp.auth.logout(.init(), metadata: t.ownerAuth)
            #expect(await rpcCode { _ = try await cp.auth.whoAmI(.init(), metadata: t.ownerAuth) } == .unauthenticated)
            // Emails are case-insensitive at login.
            _ = try await cp.login("auth-co", t.ownerEmail.uppercased(), TestControlPlane.password)
        }
    }

    @Test("wrong password, unknown user and unknown tenant look the same")
    func wrongCredentials() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("creds-co")
            let attempts = [
                (t.slug, t.ownerEmail, "wrong password here"),
                (t.slug, "nobody@creds-co.example", TestControlPlane.password),
                ("no-such-tenant", t.ownerEmail, TestControlPlane.password),
            ]
            var messages: Set<String> = []
            for (slug, email, password) in attempts {
                let error = await rpcError { _ = try await cp.login(slug, email, password) }
                #expect(error?.code == .unauthenticated)
                messages.insert(error?.message ?? "")
            }
            #expect(messages.count == 1)
        }
    }

    @Test("repeated failures are throttled with growing delays, then a success clears the account")
    func throttling() async throws {
        var configuration = ControlPlane.Configuration.defaults
        configuration.loginThrottle.freeFailures = 2
        configuration.loginThrottle.baseDelay = .seconds(1)
        try await TestControlPlane.with(configuration: configuration) { cp in
            let t = try await cp.makeTenant("throttle-co")
            for _ in 0..<2 {
                #expect(await rpcCode { _ = try await cp.login(t.slug, t.ownerEmail, "wrong password here") } == .unauthenticated)
            }
            // The third failure is still judged but arms a 1 s delay.
            #expect(await rpcCode { _ = try await cp.login(t.slug, t.ownerEmail, "wrong password here") } == .unauthenticated)
            let throttled = await rpcError { _ = try await cp.login(t.slug, t.ownerEmail, TestControlPlane.password) }
            #expect(throttled?.code == .resourceExhausted)
            #expect(throttled?.message.contains("wait") == true)
            try await Task.sleep(for: .milliseconds(1100))
            _ = try await cp.login(t.slug, t.ownerEmail, TestControlPlane.password)
        }
    }

    @Test("API keys: created once with a secret, listed without it, usable, revocable")
    func apiKeys() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("keys-co")
            let created = try await cp.auth.createApiKey(.with {
                $0.name = "ci"
                $0.role = .member
                $0.expiresAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3600))
            }, metadata: t.ownerAuth)
            #expect(created.secret.hasPrefix("llk_"))
            #expect(created.secret.count > 40)
            #expect(created.secret.hasPrefix(created.apiKey.prefix))
            #expect(created.apiKey.scopes == ["control"])

            let listed = try await cp.auth.listApiKeys(.init(), metadata: t.ownerAuth)
            #expect(listed.apiKeys.map(\.id) == [created.apiKey.id])
            let serialized = try listed.jsonString()
            #expect(!serialized.contains(created.secret))
            #expect(!serialized.contains(String(created.secret.dropFirst(12))))

            let keyAuth = TestControlPlane.auth(created.secret)
            let me = try await cp.auth.whoAmI(.init(), metadata: keyAuth)
            #expect(me.kind == .apiKey)
            #expect(me.role == .member)
            _ = try await cp.projects.listProjects(.init(), metadata: keyAuth)

            _ = try await cp.auth.revokeApiKey(.with { $0.id = created.apiKey.id }, metadata: t.ownerAuth)
            #expect(await rpcCode { _ = try await cp.projects.listProjects(.init(), metadata: keyAuth) } == .unauthenticated)
            let checked1 = try await cp.auth.listApiKeys(.init(), metadata: t.ownerAuth)
            #expect(checked1.apiKeys.isEmpty)
            let checked2 = try await cp.auth.listApiKeys(.with { $0.includeRevoked = true }, metadata: t.ownerAuth)
            #expect(checked2.apiKeys.count == 1)
        }
    }

    @Test("a key's role cannot exceed its creator's; bad key requests name the field")
    func apiKeyRules() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("keyrules-co")
            let (_, memberToken) = try await cp.signedInUser(t, role: .member)
            let member = TestControlPlane.auth(memberToken)
            #expect(await rpcCode { _ = try await cp.auth.createApiKey(.with { $0.name = "x"; $0.role = .admin }, metadata: member) } == .permissionDenied)
            _ = try await cp.auth.createApiKey(.with { $0.name = "mine"; $0.role = .member }, metadata: member)

            let bad: [(Llmlab_V1_CreateApiKeyRequest, String)] = [
                (.with { $0.role = .viewer }, "name"),
                (.with { $0.name = "x" }, "role"),
                (.with { $0.name = "x"; $0.role = .viewer; $0.projectID = "not-a-uuid" }, "project_id"),
                (.with { $0.name = "x"; $0.role = .viewer; $0.scopes = ["everything"] }, "scopes[0]"),
                (.with { $0.name = "x"; $0.role = .viewer; $0.expiresAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60)) }, "expires_at"),
            ]
            for (request, field) in bad {
                let error = await rpcError { _ = try await cp.auth.createApiKey(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field)")
                #expect(error?.message.contains(field) == true, "\(String(describing: error?.message))")
            }
            #expect(await rpcCode {
                _ = try await cp.auth.createApiKey(.with { $0.name = "x"; $0.role = .viewer; $0.projectID = UUID().uuidString }, metadata: t.ownerAuth)
            } == .notFound)
            // Only sessions log out.
            let key = try await cp.auth.createApiKey(.with { $0.name = "k"; $0.role = .viewer }, metadata: t.ownerAuth)
            #expect(await rpcCode { _ = try await cp.auth.logout(.init(), metadata: TestControlPlane.auth(key.secret)) } == .failedPrecondition)
        }
    }

    @Test("CreateApiKey with limits: round-trips through create and list; bad values name their field")
    func apiKeyLimits() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("limits-co")
            let created = try await cp.auth.createApiKey(.with {
                $0.name = "app"
                $0.role = .member
                $0.scopes = ["proxy"]
                $0.monthlyBudgetUsd = "12.5"
                $0.rpmLimit = 60
                $0.tpmLimit = 40000
            }, metadata: t.ownerAuth)
            #expect(created.apiKey.monthlyBudgetUsd == "12.50")
            #expect(created.apiKey.rpmLimit == 60)
            #expect(created.apiKey.tpmLimit == 40000)
            let plain = try await cp.auth.createApiKey(.with { $0.name = "plain"; $0.role = .member }, metadata: t.ownerAuth)
            #expect(plain.apiKey.monthlyBudgetUsd.isEmpty && plain.apiKey.rpmLimit == 0 && plain.apiKey.tpmLimit == 0)

            let listed = try await cp.auth.listApiKeys(.init(), metadata: t.ownerAuth)
            let key = try #require(listed.apiKeys.first { $0.id == created.apiKey.id })
            #expect(key.monthlyBudgetUsd == "12.50" && key.rpmLimit == 60 && key.tpmLimit == 40000)

            let bad: [(Llmlab_V1_CreateApiKeyRequest, String)] = [
                (.with { $0.name = "x"; $0.role = .member; $0.scopes = ["proxy"]; $0.monthlyBudgetUsd = "-5" }, "monthly_budget_usd"),
                (.with { $0.name = "x"; $0.role = .member; $0.scopes = ["proxy"]; $0.monthlyBudgetUsd = "1.1234567" }, "monthly_budget_usd"),
                (.with { $0.name = "x"; $0.role = .member; $0.scopes = ["proxy"]; $0.monthlyBudgetUsd = "1e3" }, "monthly_budget_usd"),
                (.with { $0.name = "x"; $0.role = .member; $0.scopes = ["proxy"]; $0.rpmLimit = 0 }, "rpm_limit"),
                (.with { $0.name = "x"; $0.role = .member; $0.scopes = ["proxy"]; $0.rpmLimit = -3 }, "rpm_limit"),
                (.with { $0.name = "x"; $0.role = .member; $0.scopes = ["proxy"]; $0.tpmLimit = 0 }, "tpm_limit"),
                (.with { $0.name = "x"; $0.role = .member; $0.tpmLimit = 100 }, "tpm_limit"),
            ]
            for (request, field) in bad {
                let error = await rpcError { _ = try await cp.auth.createApiKey(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field)")
                #expect(error?.message.contains(field) == true, "\(String(describing: error?.message))")
            }
        }
    }
}
