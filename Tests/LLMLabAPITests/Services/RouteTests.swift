import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Routes")
struct RouteTests {
    /// A valid SetRoute for `project` with one openai deployment on `key`, changed by `edit`.
    static func request(project: String, key: String, _ edit: (inout Llmlab_V1_SetRouteRequest) -> Void) -> Llmlab_V1_SetRouteRequest {
        var request = Llmlab_V1_SetRouteRequest.with {
            $0.projectID = project
            $0.alias = "gpt-4o"
            $0.deployments = [deployment(.openai, "gpt-4o", key: key)]
        }
        edit(&request)
        return request
    }

    /// Requests wrong in exactly one field (with its wire name), for a project that allows
    /// openai and anthropic and holds `key` (openai) and `anthropicKey`.
    static func invalidRequests(
        project: String, key: String, otherProjectKey: String, anthropicKey: String
    ) -> [(Llmlab_V1_SetRouteRequest, String)] {
        let request = { (edit: (inout Llmlab_V1_SetRouteRequest) -> Void) in Self.request(project: project, key: key, edit) }
        let one = deployment(.openai, "gpt-4o", key: key)
        return [
            (request { $0.projectID = "" }, "project_id"),
            (request { $0.projectID = "not-an-id" }, "project_id"),
            (request { $0.alias = "" }, "alias"),
            (request { $0.alias = "gpt 4o" }, "alias"),
            (request { $0.alias = "gpt-4o@latest" }, "alias"),
            (request { $0.alias = String(repeating: "a", count: 201) }, "alias"),
            (request { $0.strategy = .UNRECOGNIZED(9) }, "strategy"),
            (request { $0.deployments = [] }, "deployments"),
            (request { $0.deployments = (0..<21).map { deployment(.openai, "m\($0)", key: key) } }, "deployments"),
            (request { $0.deployments = [deployment(.unspecified, "gpt-4o", key: key)] }, "deployments[0].provider"),
            (request { $0.deployments = [one, deployment(.openai, "", key: key)] }, "deployments[1].model"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o\n", key: key)] }, "deployments[0].model"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: "")] }, "deployments[0].provider_key_id"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: "../keys")] }, "deployments[0].provider_key_id"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: key, weight: 1001)] }, "deployments[0].weight"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: key, weight: -1)] }, "deployments[0].weight"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: key, priority: -1)] }, "deployments[0].priority"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: key, priority: 1001)] }, "deployments[0].priority"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: key, timeoutMs: 50)] }, "deployments[0].timeout_ms"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: key, timeoutMs: 600_001)] }, "deployments[0].timeout_ms"),
            (request { $0.deployments = [one, deployment(.openai, "gpt-4o-mini", key: key), one] }, "deployments[2]"),
            // Checked against the database: the project's providers and keys.
            (request { $0.deployments = [one, deployment(.gemini, "gemini-2.5-pro", key: key)] }, "deployments[1].provider"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: otherProjectKey)] }, "deployments[0].provider_key_id"),
            (request { $0.deployments = [deployment(.openai, "gpt-4o", key: anthropicKey)] }, "deployments[0].provider_key_id"),
        ]
    }

    @Test("set creates, set again replaces in place; get, list with pages, delete")
    func crudAndReplace() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("routes-co")
            let (p, keys) = try await cp.projectWithKeys(t, keysFor: [.openai, .anthropic, .azureOpenai])
            let openai = try #require(keys[.openai]).id, anthropic = try #require(keys[.anthropic]).id
            let azure = try #require(keys[.azureOpenai]).id

            let created = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "gpt-4o"
                $0.deployments = [
                    deployment(.openai, "gpt-4o", key: openai, weight: 3),
                    deployment(.anthropic, "claude-sonnet-4-5", key: anthropic, priority: 1, timeoutMs: 30_000),
                ]
            }, metadata: t.ownerAuth)
            #expect(created.projectID == p.id)
            #expect(created.alias == "gpt-4o")
            #expect(created.strategy == .weighted)
            #expect(created.deployments.map(\.model) == ["gpt-4o", "claude-sonnet-4-5"])
            #expect(created.deployments.map(\.weight) == [3, 1])
            #expect(created.deployments.map(\.priority) == [0, 1])
            #expect(created.deployments.map(\.hasTimeoutMs) == [false, true])
            #expect(created.deployments[1].timeoutMs == 30_000)
            #expect(created.deployments.allSatisfy { UUID(uuidString: $0.id) != nil })

            // Replacing keeps the route's id and creation time, and a kept target keeps its id.
            let replaced = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "gpt-4o"
                $0.strategy = .leastLatency
                $0.deployments = [
                    deployment(.azureOpenai, "gpt4o-eu", key: azure),
                    deployment(.anthropic, "claude-sonnet-4-5", key: anthropic, weight: 2),
                ]
            }, metadata: t.ownerAuth)
            #expect(replaced.id == created.id)
            #expect(replaced.createdAt == created.createdAt)
            #expect(replaced.strategy == .leastLatency)
            #expect(replaced.deployments.map(\.provider) == [.azureOpenai, .anthropic])
            #expect(replaced.deployments[1].id == created.deployments[1].id)
            #expect(replaced.deployments[1].weight == 2)
            #expect(!replaced.deployments[1].hasTimeoutMs)
            #expect(!replaced.deployments.contains { $0.id == created.deployments[0].id })

            let fetched = try await cp.routes.getRoute(.with { $0.id = created.id }, metadata: t.ownerAuth)
            #expect(fetched == replaced)

            let embed = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "embed/default"
                $0.deployments = [deployment(.openai, "text-embedding-3-small", key: openai)]
            }, metadata: t.ownerAuth)
            let all = try await cp.routes.listRoutes(.init(), metadata: t.ownerAuth)
            #expect(all.routes.map(\.alias) == ["embed/default", "gpt-4o"])
            #expect(all.nextPageToken.isEmpty)
            let first = try await cp.routes.listRoutes(.with { $0.projectID = p.id; $0.pageSize = 1 }, metadata: t.ownerAuth)
            #expect(first.routes.map(\.id) == [embed.id])
            let second = try await cp.routes.listRoutes(.with {
                $0.projectID = p.id; $0.pageSize = 1; $0.pageToken = first.nextPageToken
            }, metadata: t.ownerAuth)
            #expect(second.routes.map(\.id) == [created.id])
            #expect(second.nextPageToken.isEmpty)
            #expect(await rpcCode { _ = try await cp.routes.listRoutes(.with { $0.pageToken = "garbage!" }, metadata: t.ownerAuth) } == .invalidArgument)

            // A viewer reads routes but cannot change them.
            let (_, viewer) = try await cp.signedInUser(t, role: .viewer)
            let asViewer = TestControlPlane.auth(viewer)
            #expect(try await cp.routes.getRoute(.with { $0.id = embed.id }, metadata: asViewer).alias == "embed/default")
            #expect(await rpcCode { _ = try await cp.routes.deleteRoute(.with { $0.id = embed.id }, metadata: asViewer) } == .permissionDenied)

            _ = try await cp.routes.deleteRoute(.with { $0.id = created.id }, metadata: t.ownerAuth)
            #expect(await rpcCode { _ = try await cp.routes.getRoute(.with { $0.id = created.id }, metadata: t.ownerAuth) } == .notFound)
            #expect(await rpcCode { _ = try await cp.routes.deleteRoute(.with { $0.id = created.id }, metadata: t.ownerAuth) } == .notFound)
            let remaining = try await cp.routes.listRoutes(.init(), metadata: t.ownerAuth)
            #expect(remaining.routes.map(\.id) == [embed.id])
        }
    }

    @Test("health is healthy by default, shows what the proxy stored, and an expired cooldown is healthy")
    func health() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("health-co")
            let (p, keys) = try await cp.projectWithKeys(t, keysFor: [.openai, .anthropic])
            let openai = try #require(keys[.openai]).id, anthropic = try #require(keys[.anthropic]).id
            let route = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "chat"
                $0.deployments = [deployment(.openai, "gpt-4o", key: openai), deployment(.anthropic, "claude-haiku-4-5", key: anthropic)]
            }, metadata: t.ownerAuth)

            let fresh = try await cp.routes.getRouteHealth(.with { $0.id = route.id }, metadata: t.ownerAuth)
            #expect(fresh.routeID == route.id)
            #expect(fresh.alias == "chat")
            #expect(fresh.deployments.map(\.deployment) == route.deployments)
            for entry in fresh.deployments {
                #expect(entry.state == .healthy)
                #expect(!entry.hasUpdatedAt && !entry.hasCooldownUntil && !entry.hasLastLatencyMs && !entry.hasP50LatencyMs)
                #expect(entry.consecutiveFailures == 0 && entry.lastErrorClass.isEmpty)
            }

            // What the proxy will write, written behind the API's back.
            let now = Date()
            let scope = try cp.scope(t)
            let openaiKey = try #require(UUID(uuidString: openai)), anthropicKey = try #require(UUID(uuidString: anthropic))
            try await cp.database.database.withTenantTransaction(scope) { connection in
                let health = DeploymentHealthRepository(connection, logger: TestControlPlane.logger)
                try await health.put(DeploymentHealthRecord(
                    providerKeyID: openaiKey, model: "gpt-4o", state: .coolingDown, cooldownUntil: now.addingTimeInterval(60),
                    consecutiveFailures: 3, lastErrorClass: "rate_limited", lastLatencyMilliseconds: 850,
                    p50LatencyMilliseconds: 420, updatedAt: now))
                try await health.put(DeploymentHealthRecord(
                    providerKeyID: anthropicKey, model: "claude-haiku-4-5", state: .coolingDown,
                    cooldownUntil: now.addingTimeInterval(-60), consecutiveFailures: 1, lastErrorClass: "timeout", updatedAt: now))
            }
            let stored = try await cp.routes.getRouteHealth(.with { $0.id = route.id }, metadata: t.ownerAuth)
            let cooling = stored.deployments[0], expired = stored.deployments[1]
            #expect(cooling.state == .coolingDown)
            #expect(abs(cooling.cooldownUntil.date.timeIntervalSince(now.addingTimeInterval(60))) < 0.01)
            #expect(cooling.consecutiveFailures == 3)
            #expect(cooling.lastErrorClass == "rate_limited")
            #expect(cooling.lastLatencyMs == 850 && cooling.p50LatencyMs == 420)
            #expect(cooling.hasUpdatedAt)
            #expect(expired.state == .healthy)
            #expect(expired.hasCooldownUntil)
            #expect(expired.consecutiveFailures == 1 && expired.lastErrorClass == "timeout")
            #expect(!expired.hasLastLatencyMs)

            // Health belongs to the target: replacing the route keeps it.
            _ = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "chat"
                $0.deployments = [deployment(.openai, "gpt-4o", key: openai, weight: 5)]
            }, metadata: t.ownerAuth)
            let after = try await cp.routes.getRouteHealth(.with { $0.id = route.id }, metadata: t.ownerAuth)
            #expect(after.deployments.map(\.state) == [.coolingDown])
            #expect(after.deployments[0].deployment.weight == 5)

            let (_, viewer) = try await cp.signedInUser(t, role: .viewer)
            _ = try await cp.routes.getRouteHealth(.with { $0.id = route.id }, metadata: TestControlPlane.auth(viewer))
            #expect(await rpcCode { _ = try await cp.routes.getRouteHealth(.with { $0.id = UUID().uuidString }, metadata: t.ownerAuth) } == .notFound)
        }
    }

    @Test("every invalid SetRoute names its field and writes nothing")
    func validation() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("routebad-co")
            let (p, keys) = try await cp.projectWithKeys(t, allowed: [.openai, .anthropic], keysFor: [.openai, .anthropic])
            let (other, otherKeys) = try await cp.projectWithKeys(t, name: "other", keysFor: [.openai])
            let key = try #require(keys[.openai]).id, anthropicKey = try #require(keys[.anthropic]).id
            let otherKey = try #require(otherKeys[.openai]).id
            let request = { (edit: (inout Llmlab_V1_SetRouteRequest) -> Void) in Self.request(project: p.id, key: key, edit) }
            let one = deployment(.openai, "gpt-4o", key: key)
            let cases = Self.invalidRequests(project: p.id, key: key, otherProjectKey: otherKey, anthropicKey: anthropicKey)
            for (request, field) in cases {
                let error = await rpcError { _ = try await cp.routes.setRoute(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field): \(String(describing: error))")
                #expect(error?.message.contains(field) == true, "\(field): \(String(describing: error?.message))")
            }

            let missingKey = await rpcError {
                _ = try await cp.routes.setRoute(request { $0.deployments = [one, deployment(.anthropic, "claude", key: UUID().uuidString)] }, metadata: t.ownerAuth)
            }
            #expect(missingKey?.code == .notFound)
            #expect(missingKey?.message.contains("deployments[1].provider_key_id") == true)
            #expect(await rpcCode { _ = try await cp.routes.setRoute(request { $0.projectID = UUID().uuidString }, metadata: t.ownerAuth) } == .notFound)
            _ = try await cp.projects.archiveProject(.with { $0.id = other.id }, metadata: t.ownerAuth)
            let archived = await rpcError {
                _ = try await cp.routes.setRoute(request { $0.projectID = other.id; $0.deployments = [deployment(.openai, "gpt-4o", key: otherKey)] }, metadata: t.ownerAuth)
            }
            #expect(archived?.code == .failedPrecondition)

            let listed = try await cp.routes.listRoutes(.init(), metadata: t.ownerAuth)
            #expect(listed.routes.isEmpty)
            #expect(await rpcCode { _ = try await cp.routes.getRoute(.with { $0.id = "x" }, metadata: t.ownerAuth) } == .invalidArgument)
            #expect(await rpcCode { _ = try await cp.routes.listRoutes(.with { $0.projectID = UUID().uuidString }, metadata: t.ownerAuth) } == .notFound)
        }
    }

    @Test("a provider key cannot be deleted while a route uses it")
    func keyDeleteBlocked() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("keyinuse-co")
            let (p, keys) = try await cp.projectWithKeys(t, keysFor: [.openai, .anthropic])
            let openai = try #require(keys[.openai]).id, anthropic = try #require(keys[.anthropic]).id
            let route = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "smart"
                $0.deployments = [deployment(.openai, "gpt-4o", key: openai), deployment(.anthropic, "claude-sonnet-4-5", key: anthropic)]
            }, metadata: t.ownerAuth)

            let blocked = await rpcError { _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = openai }, metadata: t.ownerAuth) }
            #expect(blocked?.code == .failedPrecondition)
            #expect(blocked?.message.contains("\"smart\"") == true)
            #expect(blocked?.message.contains(route.id) == true)
            #expect(blocked?.message.contains("change the route first") == true)
            let stillThere = try await cp.providerKeys.listProviderKeys(.init(), metadata: t.ownerAuth)
            #expect(stillThere.providerKeys.contains { $0.id == openai })

            // Once no route uses it, the key goes (and takes its recorded health with it).
            _ = try await cp.routes.setRoute(.with {
                $0.projectID = p.id
                $0.alias = "smart"
                $0.deployments = [deployment(.anthropic, "claude-sonnet-4-5", key: anthropic)]
            }, metadata: t.ownerAuth)
            let scope = try cp.scope(t)
            let openaiKey = try #require(UUID(uuidString: openai))
            try await cp.database.database.withTenantTransaction(scope) { connection in
                try await DeploymentHealthRepository(connection, logger: TestControlPlane.logger).put(
                    DeploymentHealthRecord(providerKeyID: openaiKey, model: "gpt-4o", consecutiveFailures: 2))
            }
            _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = openai }, metadata: t.ownerAuth)
            #expect(await rpcCode { _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = anthropic }, metadata: t.ownerAuth) } == .failedPrecondition)
            _ = try await cp.routes.deleteRoute(.with { $0.id = route.id }, metadata: t.ownerAuth)
            _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = anthropic }, metadata: t.ownerAuth)
            let none = try await cp.providerKeys.listProviderKeys(.init(), metadata: t.ownerAuth)
            #expect(none.providerKeys.isEmpty)
        }
    }

    @Test("every route mutation is audited in its transaction; failures write nothing")
    func audited() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("routeaudit-co")
            let (p, keys) = try await cp.projectWithKeys(t, keysFor: [.openai])
            let key = try #require(keys[.openai]).id
            let set = Llmlab_V1_SetRouteRequest.with {
                $0.projectID = p.id
                $0.alias = "gpt-4o"
                $0.deployments = [deployment(.openai, "gpt-4o", key: key)]
            }
            let route = try await cp.routes.setRoute(set, metadata: t.ownerAuth)
            _ = try await cp.routes.setRoute(set, metadata: t.ownerAuth)
            _ = await rpcCode { _ = try await cp.routes.setRoute(.with { $0.projectID = p.id; $0.alias = "x" }, metadata: t.ownerAuth) }
            _ = await rpcCode { _ = try await cp.providerKeys.deleteProviderKey(.with { $0.id = key }, metadata: t.ownerAuth) }
            _ = try await cp.routes.deleteRoute(.with { $0.id = route.id }, metadata: t.ownerAuth)

            let events = try await cp.audit.listAuditEvents(.with {
                $0.pageSize = 500
            }, metadata: t.ownerAuth).events.filter { $0.target == "route:\(route.id)" }
            #expect(events.map(\.action) == [
                "llmlab.v1.RouteService/DeleteRoute", "llmlab.v1.RouteService/SetRoute", "llmlab.v1.RouteService/SetRoute",
            ])
            #expect(events.allSatisfy { $0.outcome == "success" && $0.actor == "user:\(t.ownerID)" })
            #expect(events[2].detail.contains("event=created") && events[1].detail.contains("event=replaced"))
            #expect(events[2].detail.contains("alias=gpt-4o") && events[2].detail.contains("targets=openai:gpt-4o"))
            let failed = try await cp.audit.listAuditEvents(.with { $0.action = "llmlab.v1.ProviderKeyService/DeleteProviderKey" }, metadata: t.ownerAuth)
            #expect(failed.events.isEmpty)
            let verified = try await cp.audit.verifyAuditChain(.init(), metadata: t.ownerAuth)
            #expect(verified.ok)
        }
    }
}
