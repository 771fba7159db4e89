import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import NIOHTTP1
import Testing

/// Routes in the proxy: alias → ordered OpenAI deployments, fallback, cooldown, health.
/// Deployments share the project's one OpenAI key and differ by model, so the fake's
/// magic models (`server-error`, `rate-limited`, `bad-request`) make them fail.
@Suite("Routing and failover")
struct RoutingTests {
    /// Sets route `alias` of the harness project to `deployments` (model, priority).
    @discardableResult
    static func setRoute(_ harness: GatewayHarness, alias: String = "smart", strategy: RouteStrategy = .weighted,
                         timeouts: [String: Int] = [:], _ deployments: [(String, Int)]) async throws -> RouteRecord {
        let projectID = harness.projectID
        defer { harness.configurationChanged() }
        return try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
            let key = try #require(try await ProviderKeyRepository(connection, logger: GatewayHarness.logger).list(projectID: projectID).first)
            return try await RouteRepository(connection, logger: GatewayHarness.logger).set(
                projectID: projectID, alias: alias, strategy: strategy,
                deployments: deployments.map { RouteDeploymentRecord(provider: .openai, model: $0.0, providerKeyID: key.id, priority: $0.1,
                                                                  timeoutMilliseconds: timeouts[$0.0]) }).route
        }
    }

    static func models(_ harness: GatewayHarness) -> [String] {
        harness.fake.received.map { $0.json["model"] as? String ?? "" }
    }

    @Test("the alias is replaced by the deployment's model upstream; every other byte is kept")
    func aliasSubstitution() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setRoute(harness, [("gpt-4o-mini", 0)])
            let body = GatewayHarness.chatBody(model: "smart")
            let reply = try await harness.chat(body)
            #expect(reply.status == 200)
            let received = try #require(harness.fake.received.first)
            #expect(received.body == Array(GatewayHarness.chatBody(model: "gpt-4o-mini").utf8))
            #expect(received.authorization == "Bearer \(harness.openAISecret)")
            // Without a route the model goes through as given.
            #expect(try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o")).status == 200)
            #expect(Self.models(harness) == ["gpt-4o-mini", "gpt-4o"])
        }
    }

    @Test("lower priority is tried first, whatever the stored order")
    func priorityOrder() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setRoute(harness, [("gpt-4o", 1), ("gpt-4o-mini", 0)])
            for _ in 0..<3 { #expect(try await harness.chat(GatewayHarness.chatBody(model: "smart")).status == 200) }
            #expect(Self.models(harness) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini"])
        }
    }

    @Test("ordering: priority groups, weighted among equals, least latency first")
    func ordering() {
        let key = UUID()
        let a = RouteDeploymentRecord(provider: .openai, model: "a", providerKeyID: key, weight: 1000, priority: 0)
        let b = RouteDeploymentRecord(provider: .openai, model: "b", providerKeyID: key, weight: 1, priority: 0)
        let c = RouteDeploymentRecord(provider: .openai, model: "c", providerKeyID: key, weight: 1, priority: 1)
        var rng = SystemRandomNumberGenerator()
        var firstA = 0
        for _ in 0..<200 {
            let order = RouteOrdering.order([c, b, a], strategy: .weighted, latency: { _ in nil }, using: &rng)
            #expect(order.last?.model == "c")
            if order.first?.model == "a" { firstA += 1 }
        }
        #expect(firstA > 180)
        let latencies = ["a": 80.0, "b": 20.0]
        let order = RouteOrdering.order([a, b, c], strategy: .leastLatency, latency: { latencies[$0.model] }, using: &rng)
        #expect(order.map(\.model) == ["b", "a", "c"])
    }

    @Test("a 500 and then a 429 deployment fall back to the next: the client sees 200; the event names the deployment")
    func fallbackOn500And429() async throws {
        try await GatewayHarness.with { harness in
            let route = try await Self.setRoute(harness, [("server-error", 0), ("rate-limited", 1), ("gpt-4o-mini", 2)])
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "smart"))
            #expect(reply.status == 200)
            #expect(reply.json["id"] as? String == FakeOpenAI.completionID)
            // The 500 is retried once on its deployment; the 429's retry-after (7 s) is longer
            // than the proxy waits (1 s in the harness), so it falls back at once.
            #expect(Self.models(harness) == ["server-error", "server-error", "rate-limited", "gpt-4o-mini"])
            await harness.gateway.usageWriter.flush()
            let event = try #require(try await UsageTests.events(harness).first)
            #expect(event.routeID == route.id)
            #expect(event.deployment == "openai:gpt-4o-mini@default")
            #expect(event.model == "gpt-4o-mini")
            #expect(event.status == 200)
        }
    }

    @Test("a deployment that times out (its own timeout_ms) falls back to the next")
    func fallbackOnTimeout() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setRoute(harness, timeouts: ["slow-completion": 300], [("slow-completion", 0), ("gpt-4o-mini", 1)])
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "smart"))
            #expect(reply.status == 200)
            // Two attempts on the slow deployment (a timeout is retried once), then the next
            // one. The fake records a request when it arrives, and under load the abandoned
            // retry can arrive after the fallback's request, so the order is not asserted.
            #expect(Self.models(harness).sorted() == ["gpt-4o-mini", "slow-completion", "slow-completion"])
            #expect(reply.json["id"] as? String == FakeOpenAI.completionID)
        }
    }

    @Test("no fallback on 400: the provider's answer passes through and the next deployment is not called")
    func noFallbackOn400() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setRoute(harness, [("bad-request", 0), ("gpt-4o-mini", 1)])
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "smart"))
            #expect(reply.status == 400)
            #expect(reply.error["code"] as? String == "invalid_value")
            #expect(Self.models(harness) == ["bad-request"])
        }
    }

    @Test("a failing deployment cools down and is skipped on the next request; its health is written")
    func cooldownSkips() async throws {
        try await GatewayHarness.with(configure: {
            $0.deploymentFailureThreshold = 1
            $0.deploymentHealthFlushInterval = .milliseconds(50)
        }) { harness in
            let route = try await Self.setRoute(harness, [("server-error", 0), ("gpt-4o-mini", 1)])
            #expect(try await harness.chat(GatewayHarness.chatBody(model: "smart")).status == 200)
            #expect(try await harness.chat(GatewayHarness.chatBody(model: "smart")).status == 200)
            #expect(Self.models(harness) == ["server-error", "gpt-4o-mini", "gpt-4o-mini"])
            // Written in the background.
            var health: DeploymentHealthRecord?
            for _ in 0..<100 {
                health = try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
                    try await DeploymentHealthRepository(connection, logger: GatewayHarness.logger)
                        .health(ofRoute: route.id).values.first { $0.model == "server-error" }
                }
                if health != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let record = try #require(health)
            #expect(record.state == .coolingDown)
            #expect(record.consecutiveFailures == 1)
            #expect(record.lastErrorClass == "server_error")
            #expect(record.cooldownUntil.map { $0 > Date() } == true)
        }
    }

    @Test("every deployment cooling down (a single-deployment route): 503 at once with retry-after, upstream not called")
    func allCooling503() async throws {
        try await GatewayHarness.with { harness in
            let route = try await Self.setRoute(harness, [("rate-limited", 0)])
            let first = try await harness.chat(GatewayHarness.chatBody(model: "smart"))
            #expect(first.status == 429)  // the provider's own answer, passed through
            let second = try await harness.chat(GatewayHarness.chatBody(model: "smart"))
            #expect(second.status == 503)
            #expect(second.error["code"] as? String == "deployments_cooling_down")
            #expect((second.error["message"] as? String)?.contains("route 'smart'") == true)
            let retryAfter = try #require(second.headers.first(name: "retry-after").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 7)
            #expect(Self.models(harness) == ["rate-limited"])
            await harness.gateway.usageWriter.flush()
            let events = try await UsageTests.events(harness)
            #expect(events.contains { $0.status == 503 && $0.routeID == route.id })
        }
    }

    @Test("streaming falls back before the first byte: the client gets the next deployment's stream")
    func streamingFallback() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setRoute(harness, [("server-error", 0), ("gpt-4o-mini", 1)])
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "smart", stream: true))
            #expect(reply.status == 200)
            let events = reply.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let expected = FakeOpenAI.streamEvents(model: "gpt-4o-mini", includeUsage: true)
                .filter { !$0.contains(#""choices":[]"#) }
                .map { String($0.dropLast(2)) }
            #expect(events == expected)
            #expect(Self.models(harness) == ["server-error", "server-error", "gpt-4o-mini"])
        }
    }

    @Test("a failed attempt is retried on the same deployment after the provider's retry-after-ms; the client sees only the success")
    func retriesSameDeployment() async throws {
        try await GatewayHarness.with { harness in
            harness.fake.failNext(1)
            let started = ContinuousClock.now
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o-mini"))
            #expect(reply.status == 200)
            #expect(Self.models(harness) == ["gpt-4o-mini", "gpt-4o-mini"])
            #expect(ContinuousClock.now - started >= .milliseconds(FakeOpenAI.failureRetryAfterMilliseconds))
            await harness.gateway.usageWriter.flush()
            let events = try await UsageTests.events(harness)
            #expect(events.count == 1)
            #expect(events.first?.status == 200)
        }
    }

    @Test("retries stop after the policy's limit: the provider's last error reaches the client")
    func retryLimit() async throws {
        try await GatewayHarness.with { harness in
            harness.fake.failNext(5)
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o-mini"))
            #expect(reply.status == 503)
            #expect(reply.error["type"] as? String == "server_error")
            #expect(Self.models(harness).count == 2)
        }
    }

    @Test("/v1/models lists the project's route aliases (owned by llmlab-route) before the providers' models")
    func modelsListRoutes() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setRoute(harness, alias: "smart", [("gpt-4o-mini", 0)])
            let reply = try await harness.get("/v1/models", key: harness.proxyKey)
            #expect(reply.status == 200)
            let data = try #require(reply.json["data"] as? [[String: Any]])
            #expect(data.first?["id"] as? String == "smart")
            #expect(data.first?["owned_by"] as? String == "llmlab-route")
            #expect(try await harness.get("/v1/models/smart", key: harness.proxyKey).status == 200)
            // Another project's key does not see the alias.
            #expect(try await harness.get("/v1/models/smart", key: harness.keylessProjectKey).status == 404)
        }
    }
}
