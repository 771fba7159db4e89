import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabSecurity
import LLMLabStore
import LLMLabTestSupport
import NIOHTTP1
import Testing

/// Budgets that enforce and per-key rate limits, end to end: real PostgreSQL, the fake
/// upstream, the proxy on a socket. Expected amounts are computed here by hand from the
/// catalog's gpt-4o-mini prices (input $0.15, output $0.60 per million tokens).
@Suite("Budgets and rate limits")
struct BudgetTests {
    static func dec(_ text: String) -> Decimal { Decimal(string: text)! }
    static let million = dec("1000000")

    /// The proxy's worst-case estimate for a body: ⌈bytes / 3⌉ prompt tokens at $0.15/M plus
    /// `maxTokens` output tokens at $0.60/M.
    static func promptEstimate(_ body: String) -> Int { (body.utf8.count + 2) / 3 }
    static func worstCase(_ body: String, maxTokens: Int) -> Decimal {
        Decimal(promptEstimate(body)) * dec("0.15") / million + Decimal(maxTokens) * dec("0.60") / million
    }

    static func setProjectBudget(_ harness: GatewayHarness, _ budget: String?) async throws {
        let projectID = harness.projectID
        try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
            _ = try await ProjectRepository(connection, logger: GatewayHarness.logger).update(
                id: projectID, name: nil, budget: .some(try budget.map { try USDAmount.parse($0, field: "budget") }), allowedProviders: nil)
        }
        harness.configurationChanged()
    }

    static func makeKey(_ harness: GatewayHarness, name: String, limits: ApiKeyLimits) async throws -> String {
        let token = SecretToken.issue(.apiKey)
        let tenantID = harness.tenantID
        let projectID = harness.projectID
        try await harness.database.database.withControlTransaction { connection in
            _ = try await ApiKeyRepository(connection, logger: GatewayHarness.logger).insert(ApiKeyRecord(
                id: UUID(), tenantID: tenantID, name: name, prefix: token.displayPrefix, role: .member, projectID: projectID,
                scopes: [ApiKeyScope.proxy], createdBy: "test", expiresAt: nil, limits: limits), secretHash: token.sha256Hex)
        }
        return token.secret
    }

    static func budgetEvents(_ harness: GatewayHarness) async throws -> [BudgetRepository.Event] {
        try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
            try await BudgetRepository(connection, logger: GatewayHarness.logger).events()
        }
    }

    @Test("a request over the remaining budget gets 429 budget_exceeded before any upstream call")
    func overBudgetIsRejectedBeforeUpstream() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setProjectBudget(harness, "0.001")
            // No max_tokens: the default cap of 4096 output tokens is reserved: 4096 × 0.60/M = $0.0024576 > $0.001.
            let reply = try await harness.chat(GatewayHarness.chatBody())
            #expect(reply.status == 429)
            #expect(reply.error["type"] as? String == "budget_exceeded")
            #expect(reply.error["code"] as? String == "budget_exceeded")
            #expect(reply.error.keys.contains("param") && reply.error["param"] is NSNull)
            let message = try #require(reply.error["message"] as? String)
            let worst = Self.worstCase(GatewayHarness.chatBody(), maxTokens: 4096)
            #expect(message.contains("project 'Support bot' monthly budget: spent $0 + this request up to $\(worst) would exceed the limit $0.001"),
                    "\(message)")
            #expect(message.contains("llmlab-admin project update") && message.contains("wait for next month"))
            #expect(harness.fake.received.isEmpty)

            // A cap that fits is admitted.
            let small = GatewayHarness.chatBody(extra: #","max_tokens":100"#)
            #expect(try await harness.chat(small).status == 200)
            #expect(harness.fake.received.count == 1)
        }
    }

    @Test("40 concurrent requests against a small budget: exactly the affordable ones run, spend stays within the limit")
    func concurrentRequestsCannotOvershoot() async throws {
        try await GatewayHarness.with { harness in
            let maxTokens = 1000
            let body = GatewayHarness.chatBody(extra: #","max_tokens":\#(maxTokens)"#)
            let prompt = Self.promptEstimate(body)
            // Each response reports exactly the reserved worst case, so the count is exact
            // whatever the interleaving.
            harness.fake.setUsage(#"{"prompt_tokens":\#(prompt),"completion_tokens":\#(maxTokens),"total_tokens":\#(prompt + maxTokens)}"#)
            let perRequest = Self.worstCase(body, maxTokens: maxTokens)
            // Room for 10.5 requests, rounded to whole micro-dollars (still between 10 and 11).
            var limit = perRequest * 10.5
            var rounded = Decimal()
            NSDecimalRound(&rounded, &limit, 6, .down)
            #expect(rounded >= perRequest * 10 && rounded < perRequest * 11)
            try await Self.setProjectBudget(harness, "\(rounded)")

            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        let reply = try await harness.chat(body)
                        return (reply.status, reply.error["code"] as? String ?? "")
                    }
                }
                var all: [(Int, String)] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(statuses.filter { $0.0 == 200 }.count == 10)
            #expect(statuses.filter { $0.0 == 429 && $0.1 == "budget_exceeded" }.count == 30)
            #expect(harness.fake.received.count == 10)

            await harness.gateway.usageWriter.flush()
            let events = try await UsageTests.events(harness)
            let spent = events.reduce(Decimal(0)) { $0 + Self.dec($1.costUSD ?? "0") }
            #expect(spent == perRequest * 10)
            #expect(spent <= rounded + perRequest)
            let hourly = try await UsageTests.hourly(harness)
            #expect(hourly.reduce(Decimal(0)) { $0 + Self.dec($1.costUSD) } == spent)
        }
    }

    @Test("a key's budget is enforced separately from its project's")
    func keyBudgetIsSeparate() async throws {
        try await GatewayHarness.with { harness in
            try await Self.setProjectBudget(harness, "100")
            let capped = try await Self.makeKey(harness, name: "capped", limits: ApiKeyLimits(monthlyBudget: USDAmount(micros: 1000)))
            let body = GatewayHarness.chatBody()
            let refused = try await harness.chat(body, key: capped)
            #expect(refused.status == 429)
            #expect(refused.error["code"] as? String == "budget_exceeded")
            let message = refused.error["message"] as? String ?? ""
            #expect(message.contains("API key 'capped' monthly budget"), "\(message)")
            #expect(message.contains("the limit $0.001"), "\(message)")
            #expect(harness.fake.received.isEmpty)
            // The project still has room: its other key is unaffected.
            #expect(try await harness.chat(body).status == 200)
            // A key budget that fits is admitted and the key's spend is rolled up per month.
            let roomy = try await Self.makeKey(harness, name: "roomy", limits: ApiKeyLimits(monthlyBudget: USDAmount(micros: 50_000)))
            #expect(try await harness.chat(body, key: roomy).status == 200)
            #expect(harness.fake.received.count == 2)
        }
    }

    @Test("a key's RPM limit answers 429 rate_limit_exceeded with retry-after; TPM likewise")
    func rateLimits() async throws {
        try await GatewayHarness.with { harness in
            let limited = try await Self.makeKey(harness, name: "slow", limits: ApiKeyLimits(rpm: 2))
            let body = GatewayHarness.chatBody()
            #expect(try await harness.chat(body, key: limited).status == 200)
            #expect(try await harness.chat(body, key: limited).status == 200)
            let refused = try await harness.chat(body, key: limited)
            #expect(refused.status == 429)
            #expect(refused.error["code"] as? String == "rate_limit_exceeded")
            #expect((refused.error["message"] as? String)?.contains("2 requests per minute") == true)
            let retryAfter = try #require(refused.headers.first(name: "retry-after").flatMap(Int.init))
            #expect((1...60).contains(retryAfter))
            #expect(harness.fake.received.count == 2)
            // Other keys are not limited by it.
            #expect(try await harness.chat(body).status == 200)

            // TPM: the fake reports 17 tokens per call; after the window holds ≥ 30, refuse.
            let tokenLimited = try await Self.makeKey(harness, name: "tokens", limits: ApiKeyLimits(tpm: 30))
            #expect(try await harness.chat(body, key: tokenLimited).status == 200)
            #expect(try await harness.chat(body, key: tokenLimited).status == 200)
            let tpmRefused = try await harness.chat(body, key: tokenLimited)
            #expect(tpmRefused.status == 429)
            #expect(tpmRefused.error["code"] as? String == "rate_limit_exceeded")
            #expect(tpmRefused.headers.first(name: "retry-after").flatMap(Int.init) != nil)
        }
    }

    @Test("soft thresholds 50/80/100 % are recorded once per budget and month")
    func thresholdsRecordedOnce() async throws {
        try await GatewayHarness.with { harness in
            // UsageTests.usage costs $0.000435 a call; the budget is $0.001.
            harness.fake.setUsage(UsageTests.usage)
            try await Self.setProjectBudget(harness, "0.001")
            let body = GatewayHarness.chatBody(extra: #","max_tokens":100"#)
            #expect(try await harness.chat(body).status == 200)  // 43.5 %
            #expect(try await harness.chat(body).status == 200)  // 87 %: crosses 50 and 80
            // 0.00087 + this worst case (≈ 0.000067) still fits; the response reports more
            // than estimated and spend reaches 130.5 %: crosses 100.
            #expect(try await harness.chat(body).status == 200)
            // Nothing left: refused, and nothing is recorded again.
            #expect(try await harness.chat(body).status == 429)
            #expect(try await harness.chat(body).status == 429)
            var events: [BudgetRepository.Event] = []
            for _ in 0..<50 {
                events = try await Self.budgetEvents(harness)
                if events.count >= 3 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(200))
            events = try await Self.budgetEvents(harness)
            #expect(events.map(\.thresholdPct).sorted() == [50, 80, 100])
            #expect(events.allSatisfy { $0.subjectKind == "project" && $0.subjectID == harness.projectID })
            let fifty = try #require(events.first { $0.thresholdPct == 50 })
            #expect(Self.dec(fifty.spentUSD) == Self.dec("0.00087"))
            #expect(Self.dec(fifty.limitUSD) == Self.dec("0.001"))
            let hundred = try #require(events.first { $0.thresholdPct == 100 })
            #expect(Self.dec(hundred.spentUSD) == Self.dec("0.001305"))
        }
    }
}
