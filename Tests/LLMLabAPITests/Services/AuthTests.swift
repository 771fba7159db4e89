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

    @Test("UpdateApiKey: sets and clears each field, unset fields keep their value, the change is audited")
    func apiKeyUpdate() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("keyupdate-co")
            let created = try await cp.auth.createApiKey(.with {
                $0.name = "app"
                $0.role = .member
                $0.scopes = ["proxy"]
                $0.monthlyBudgetUsd = "12.5"
                $0.rpmLimit = 60
                $0.tpmLimit = 40000
            }, metadata: t.ownerAuth)
            let id = created.apiKey.id
            func update(_ build: (inout Llmlab_V1_UpdateApiKeyRequest) -> Void) async throws -> Llmlab_V1_ApiKey {
                var request = Llmlab_V1_UpdateApiKeyRequest.with { $0.id = id }
                build(&request)
                return try await cp.auth.updateApiKey(request, metadata: t.ownerAuth)
            }

            // Each field on its own; the others keep their value.
            var key = try await update { $0.name = "app v2" }
            #expect(key.name == "app v2" && key.monthlyBudgetUsd == "12.50" && key.rpmLimit == 60 && key.tpmLimit == 40000)
            key = try await update { $0.monthlyBudgetUsd = "99.95" }
            #expect(key.name == "app v2" && key.monthlyBudgetUsd == "99.95" && key.rpmLimit == 60 && key.tpmLimit == 40000)
            key = try await update { $0.rpmLimit = 120 }
            #expect(key.name == "app v2" && key.monthlyBudgetUsd == "99.95" && key.rpmLimit == 120 && key.tpmLimit == 40000)
            key = try await update { $0.tpmLimit = 1000 }
            #expect(key.name == "app v2" && key.monthlyBudgetUsd == "99.95" && key.rpmLimit == 120 && key.tpmLimit == 1000)
            // What is returned is what is stored; the secret, role, scopes and prefix are untouched.
            let listed = try #require(try await cp.auth.listApiKeys(.init(), metadata: t.ownerAuth).apiKeys.first { $0.id == id })
            #expect(listed == key)
            #expect(key.prefix == created.apiKey.prefix && key.role == .member && key.scopes == ["proxy"])

            // Clearing: "" for the budget, 0 for the rate limits, each on its own.
            key = try await update { $0.monthlyBudgetUsd = "" }
            #expect(key.monthlyBudgetUsd.isEmpty && key.rpmLimit == 120 && key.tpmLimit == 1000)
            key = try await update { $0.rpmLimit = 0 }
            #expect(key.monthlyBudgetUsd.isEmpty && key.rpmLimit == 0 && key.tpmLimit == 1000)
            key = try await update { $0.tpmLimit = 0 }
            #expect(key.monthlyBudgetUsd.isEmpty && key.rpmLimit == 0 && key.tpmLimit == 0 && key.name == "app v2")
            // And all at once back again.
            key = try await update {
                $0.name = "app v3"
                $0.monthlyBudgetUsd = "5"
                $0.rpmLimit = 10
                $0.tpmLimit = 20
            }
            #expect(key.name == "app v3" && key.monthlyBudgetUsd == "5.00" && key.rpmLimit == 10 && key.tpmLimit == 20)

            // Every change wrote an audit row naming the key and what changed.
            let events = try await cp.audit.listAuditEvents(
                .with { $0.action = "llmlab.v1.AuthService/UpdateApiKey"; $0.pageSize = 100 }, metadata: t.ownerAuth).events
            #expect(events.count == 8)
            #expect(events.allSatisfy { $0.target == "apikey:\(id)" && $0.outcome == "success" && $0.actor == "user:\(t.ownerID)" })
            let last = try #require(events.first)
            #expect(last.detail.contains("monthly_budget_usd=5.00") && last.detail.contains("rpm_limit=10") && last.detail.contains("previous_name=app v2"))
            #expect(events.contains { $0.detail.contains("rpm_limit=none") })
            #expect(try await cp.audit.verifyAuditChain(.init(), metadata: t.ownerAuth).ok)
        }
    }

    @Test("UpdateApiKey refuses bad values naming the field, revoked keys, viewers and other tenants' keys")
    func apiKeyUpdateRules() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("keyupdrules-co")
            let key = try await cp.auth.createApiKey(.with {
                $0.name = "app"
                $0.role = .member
                $0.scopes = ["proxy"]
                $0.monthlyBudgetUsd = "10"
                $0.rpmLimit = 60
            }, metadata: t.ownerAuth).apiKey
            let controlOnly = try await cp.auth.createApiKey(.with { $0.name = "ci"; $0.role = .member }, metadata: t.ownerAuth).apiKey

            let bad: [(Llmlab_V1_UpdateApiKeyRequest, String)] = [
                (.with { $0.id = key.id; $0.monthlyBudgetUsd = "-5" }, "monthly_budget_usd"),
                (.with { $0.id = key.id; $0.monthlyBudgetUsd = "lots" }, "monthly_budget_usd"),
                (.with { $0.id = key.id; $0.monthlyBudgetUsd = "1.1234567" }, "monthly_budget_usd"),
                (.with { $0.id = key.id; $0.rpmLimit = -1 }, "rpm_limit"),
                (.with { $0.id = key.id; $0.tpmLimit = -100 }, "tpm_limit"),
                (.with { $0.id = key.id; $0.name = "" }, "name"),
                (.with { $0.id = key.id }, "nothing to change"),
                (.with { $0.id = "not-a-uuid"; $0.name = "x" }, "id"),
                // Limits act on proxy calls only.
                (.with { $0.id = controlOnly.id; $0.tpmLimit = 100 }, "tpm_limit"),
            ]
            for (request, needle) in bad {
                let error = await rpcError { _ = try await cp.auth.updateApiKey(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(needle)")
                #expect(error?.message.contains(needle) == true, "\(String(describing: error?.message))")
            }
            let negative = await rpcError { _ = try await cp.auth.updateApiKey(.with { $0.id = key.id; $0.rpmLimit = -1 }, metadata: t.ownerAuth) }
            #expect(negative?.message.contains("0 to remove") == true, "\(String(describing: negative?.message))")
            // Clearing a limit on a key without the proxy scope is harmless and allowed.
            let cleared = try await cp.auth.updateApiKey(
                .with { $0.id = controlOnly.id; $0.rpmLimit = 0; $0.monthlyBudgetUsd = "" }, metadata: t.ownerAuth)
            #expect(cleared.rpmLimit == 0 && cleared.monthlyBudgetUsd.isEmpty)

            // A viewer lacks the permission; nothing changes.
            let (_, viewerToken) = try await cp.signedInUser(t, role: .viewer)
            #expect(await rpcCode {
                _ = try await cp.auth.updateApiKey(.with { $0.id = key.id; $0.rpmLimit = 1 }, metadata: TestControlPlane.auth(viewerToken))
            } == .permissionDenied)
            // A member may change only keys they created.
            let (_, memberToken) = try await cp.signedInUser(t, role: .member)
            let member = TestControlPlane.auth(memberToken)
            #expect(await rpcCode { _ = try await cp.auth.updateApiKey(.with { $0.id = key.id; $0.rpmLimit = 1 }, metadata: member) } == .permissionDenied)
            let own = try await cp.auth.createApiKey(.with { $0.name = "own"; $0.role = .member; $0.scopes = ["proxy"] }, metadata: member).apiKey
            let ownUpdated = try await cp.auth.updateApiKey(.with { $0.id = own.id; $0.rpmLimit = 5 }, metadata: member)
            #expect(ownUpdated.rpmLimit == 5)

            // Another tenant's key is not found, and stays as it was.
            let other = try await cp.makeTenant("keyupdrules-other")
            let otherKey = try await cp.auth.createApiKey(.with {
                $0.name = "theirs"; $0.role = .member; $0.scopes = ["proxy"]; $0.rpmLimit = 7
            }, metadata: other.ownerAuth).apiKey
            #expect(await rpcCode {
                _ = try await cp.auth.updateApiKey(.with { $0.id = otherKey.id; $0.name = "pwned"; $0.rpmLimit = 0 }, metadata: t.ownerAuth)
            } == .notFound)
            #expect(await rpcCode { _ = try await cp.auth.updateApiKey(.with { $0.id = UUID().uuidString; $0.name = "x" }, metadata: t.ownerAuth) } == .notFound)
            let theirs = try #require(try await cp.auth.listApiKeys(.init(), metadata: other.ownerAuth).apiKeys.first { $0.id == otherKey.id })
            #expect(theirs == otherKey)

            // A revoked key cannot be changed.
            _ = try await cp.auth.revokeApiKey(.with { $0.id = key.id }, metadata: t.ownerAuth)
            let revoked = await rpcError { _ = try await cp.auth.updateApiKey(.with { $0.id = key.id; $0.name = "again" }, metadata: t.ownerAuth) }
            #expect(revoked?.code == .failedPrecondition)
            #expect(revoked?.message.contains("revoked") == true)
            let stored = try #require(try await cp.auth.listApiKeys(.with { $0.includeRevoked = true }, metadata: t.ownerAuth).apiKeys.first { $0.id == key.id })
            #expect(stored.name == "app" && stored.rpmLimit == 60 && stored.monthlyBudgetUsd == "10.00")
        }
    }
}
