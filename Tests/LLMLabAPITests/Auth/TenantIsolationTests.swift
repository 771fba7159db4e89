import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import PostgresNIO
import SwiftProtobuf
import Testing

/// Tenant A's credentials with tenant B's ids: every tenant-scoped call answers notFound
/// (existence is not revealed) and B's data is untouched.
@Suite("Tenant isolation")
struct TenantIsolationTests {
    @Test("A's owner cannot see or touch any of B's ids")
    func crossTenantIDs() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("iso-alpha")
            let b = try await cp.makeTenant("iso-beta")
            let bProject = try await cp.projects.createProject(.with {
                $0.name = "beta search"
                $0.monthlyBudgetUsd = "100"
            }, metadata: b.ownerAuth)
            let bKey = try await cp.providerKeys.putProviderKey(.with {
                $0.projectID = bProject.id
                $0.provider = .openai
                $0.secret = "sk-beta-secret-0000000001"
            }, metadata: b.ownerAuth)
            let bApiKey = try await cp.auth.createApiKey(.with {
                $0.name = "beta ci"
                $0.role = .member
            }, metadata: b.ownerAuth)
            let (bUserID, _) = try await cp.signedInUser(b, role: .member)
            let bTrace = String(repeating: "b", count: 32)
            let bChannel = try await cp.alerts.createChannel(.with { $0.name = "beta ops"; $0.url = "https://hooks.beta.example/x" }, metadata: b.ownerAuth)
            let bProjectID = try #require(UUID(uuidString: bProject.id))
            try await TraceSeed.insert([
                TraceSeed.span(bTrace, "root", "beta agent", .agent, project: bProjectID, minute: 0, 0, 1_000, error: "boom"),
                TraceSeed.span(bTrace, "tool", parent: "root", "lookup", .tool, project: bProjectID, minute: 0, 10, 900,
                               error: "KeyError", flags: [.toolError], tool: "lookup"),
            ], tenant: b.id, into: cp)

            let asA = a.ownerAuth
            let calls: [(String, () async throws -> Void)] = [
                ("GetProject", { _ = try await cp.projects.getProject(.with { $0.id = bProject.id }, metadata: asA) }),
                ("UpdateProject", { _ = try await cp.projects.updateProject(.with { $0.id = bProject.id; $0.name = "pwned" }, metadata: asA) }),
                ("ArchiveProject", { _ = try await cp.projects.archiveProject(.with { $0.id = bProject.id }, metadata: asA) }),
                ("PutProviderKey", {
                    _ = try await cp.providerKeys.putProviderKey(.with {
                        $0.projectID = bProject.id; $0.provider = .openai; $0.secret = "sk-attacker-0000000000"
                    }, metadata: asA)
                }),
                ("DeleteProviderKey", { _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = bKey.id }, metadata: asA) }),
                ("ListProviderKeys(project)", { _ = try await cp.providerKeys.listProviderKeys(.with { $0.projectID = bProject.id }, metadata: asA) }),
                ("RevokeApiKey", { _ = try await cp.auth.revokeApiKey(.with { $0.id = bApiKey.apiKey.id }, metadata: asA) }),
                ("UpdateApiKey", { _ = try await cp.auth.updateApiKey(.with { $0.id = bApiKey.apiKey.id; $0.name = "pwned" }, metadata: asA) }),
                ("CreateApiKey(project)", {
                    _ = try await cp.auth.createApiKey(.with { $0.name = "x"; $0.role = .viewer; $0.projectID = bProject.id }, metadata: asA)
                }),
                ("SetRole", { _ = try await cp.users.setRole(.with { $0.userID = bUserID; $0.role = .viewer }, metadata: asA) }),
                ("RemoveUser", { _ = try await cp.users.removeUser(.with { $0.userID = bUserID }, metadata: asA) }),
                ("GetTrace", { _ = try await cp.traces.getTrace(.with { $0.traceID = bTrace }, metadata: asA) }),
                ("ExplainTrace", { _ = try await cp.traces.explainTrace(.with { $0.traceID = bTrace }, metadata: asA) }),
                ("ListTraces(project)", { _ = try await cp.traces.listTraces(.with { $0.projectID = bProject.id }, metadata: asA) }),
                ("QueryCost(project)", {
                    _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).queryCost(.with {
                        $0.filter = .with {
                            $0.since = Google_Protobuf_Timestamp(seconds: 1_772_445_600, nanos: 0)
                            $0.until = Google_Protobuf_Timestamp(seconds: 1_772_449_200, nanos: 0)
                            $0.projectID = bProject.id
                        }
                    }, metadata: asA)
                }),
                ("TopN(api key)", {
                    _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).topN(.with {
                        $0.dimension = .model
                        $0.filter = .with {
                            $0.since = Google_Protobuf_Timestamp(seconds: 1_772_445_600, nanos: 0)
                            $0.until = Google_Protobuf_Timestamp(seconds: 1_772_449_200, nanos: 0)
                            $0.apiKeyID = bApiKey.apiKey.id
                        }
                    }, metadata: asA)
                }),
                ("Forecast(project)", {
                    _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).forecast(.with { $0.projectID = bProject.id }, metadata: asA)
                }),
                ("DeleteChannel", { _ = try await cp.alerts.deleteChannel(.with { $0.id = bChannel.channel.id }, metadata: asA) }),
                ("TestChannel", { _ = try await cp.alerts.testChannel(.with { $0.id = bChannel.channel.id }, metadata: asA) }),
                ("ListDeliveries(channel)", { _ = try await cp.alerts.listDeliveries(.with { $0.channelID = bChannel.channel.id }, metadata: asA) }),
                ("SetRole(owner)", { _ = try await cp.users.setRole(.with { $0.userID = b.ownerID; $0.role = .viewer }, metadata: asA) }),
            ]
            for (name, call) in calls {
                let code = await rpcCode(call)
                #expect(code == .notFound, "\(name) with B's id answered \(String(describing: code))")
            }

            // A's lists show none of B's rows.
            let aProjects = try await cp.projects.listProjects(.with { $0.includeArchived = true }, metadata: asA)
            #expect(!aProjects.projects.contains { $0.id == bProject.id })
            let aKeys = try await cp.providerKeys.listProviderKeys(.init(), metadata: asA)
            #expect(aKeys.providerKeys.isEmpty)
            let aApiKeys = try await cp.auth.listApiKeys(.with { $0.includeRevoked = true }, metadata: asA)
            #expect(!aApiKeys.apiKeys.contains { $0.id == bApiKey.apiKey.id })
            let aUsers = try await cp.users.listUsers(.init(), metadata: asA)
            #expect(aUsers.users.map(\.email) == [a.ownerEmail])
            let aTraces = try await cp.traces.listTraces(.init(), metadata: asA)
            #expect(aTraces.traces.isEmpty)
            #expect(try await cp.alerts.listChannels(.init(), metadata: asA).channels.isEmpty)
            let aAudit = try await cp.audit.listAuditEvents(.init(), metadata: asA)
            #expect(!aAudit.events.contains { $0.target.contains(bProject.id) })

            // B's data is exactly as B left it.
            let project = try await cp.projects.getProject(.with { $0.id = bProject.id }, metadata: b.ownerAuth)
            #expect(project.name == "beta search")
            #expect(!project.hasArchivedAt)
            let keys = try await cp.providerKeys.listProviderKeys(.init(), metadata: b.ownerAuth)
            #expect(keys.providerKeys.map(\.id) == [bKey.id])
            #expect(!keys.providerKeys[0].hasRotatedAt)
            let apiKeys = try await cp.auth.listApiKeys(.init(), metadata: b.ownerAuth)
            #expect(apiKeys.apiKeys.contains { $0.id == bApiKey.apiKey.id && !$0.hasRevokedAt && $0.name == "beta ci" })
            let bTraces = try await cp.traces.listTraces(.init(), metadata: b.ownerAuth)
            #expect(bTraces.traces.map(\.traceID) == [bTrace])
            let bExplained = try await cp.traces.explainTrace(.with { $0.traceID = bTrace }, metadata: b.ownerAuth)
            #expect(bExplained.rootCause.spanID == "tool")
            #expect(try await cp.alerts.listChannels(.init(), metadata: b.ownerAuth).channels.map(\.id) == [bChannel.channel.id])
            #expect(try await cp.alerts.listDeliveries(.init(), metadata: b.ownerAuth).deliveries.isEmpty)
            let users = try await cp.users.listUsers(.init(), metadata: b.ownerAuth)
            #expect(users.users.count == 2)
            #expect(users.users.first { $0.id == bUserID }?.role == .member)
            #expect(users.users.first { $0.id == b.ownerID }?.role == .owner)
        }
    }

    @Test("a project-scoped API key sees only its project")
    func projectScopedKey() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("scoped-keys")
            let p1 = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: t.ownerAuth)
            let p2 = try await cp.projects.createProject(.with { $0.name = "two" }, metadata: t.ownerAuth)
            let key = try await cp.auth.createApiKey(.with {
                $0.name = "p1 admin"
                $0.role = .admin
                $0.projectID = p1.id
            }, metadata: t.ownerAuth)
            let scoped = TestControlPlane.auth(key.secret)
            let listed = try await cp.projects.listProjects(.init(), metadata: scoped)
            #expect(listed.projects.map(\.id) == [p1.id])
            #expect(await rpcCode { _ = try await cp.projects.getProject(.with { $0.id = p2.id }, metadata: scoped) } == .notFound)
            #expect(await rpcCode { _ = try await cp.projects.archiveProject(.with { $0.id = p2.id }, metadata: scoped) } == .notFound)
            #expect(await rpcCode { _ = try await cp.projects.createProject(.with { $0.name = "three" }, metadata: scoped) } == .permissionDenied)
            _ = try await cp.projects.updateProject(.with { $0.id = p1.id; $0.name = "one renamed" }, metadata: scoped)
        }
    }
}
