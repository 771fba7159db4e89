import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import SwiftProtobuf
import Testing

/// `llmlab.v1.AnalyticsService` over real TLS, on events written through the usage
/// repository (so from the rollup it maintains): sums, grouping, filters, ranking, model
/// health, the forecast of a seeded series, validation, scoping and isolation.
@Suite("Analytics service")
struct AnalyticsTests {
    static let hour = ISO8601DateFormatter().date(from: "2026-03-02T10:00:00Z")!

    static func event(_ tenant: UUID, _ id: String, project: UUID, key: UUID, at: Date, model: String = "gpt-4o",
                      provider: String = "openai", cost: String?, latency: Int32 = 120, status: Int32 = 200) -> UsageEventRecord {
        UsageEventRecord(tenantID: tenant, requestID: id, occurredAt: at, projectID: project, apiKeyID: key, provider: provider,
                         model: model, inputTokens: 100, outputTokens: 10, costUSD: cost,
                         unpricedReason: cost == nil ? "unknown_model: not in the catalog" : "", latencyMs: latency,
                         status: status, streamed: false)
    }

    static func seed(_ events: [UsageEventRecord], tenant: UUID, _ cp: TestControlPlane) async throws {
        _ = try await cp.database.database.withTenantTransaction(TenantScope(tenantID: tenant)) { connection in
            try await UsageEventRepository(connection, logger: TestControlPlane.logger).insert(events)
        }
    }

    static func range(_ since: Date, hours: Int) -> Llmlab_V1_AnalyticsFilter {
        Llmlab_V1_AnalyticsFilter.with {
            $0.since = Google_Protobuf_Timestamp(date: since)
            $0.until = Google_Protobuf_Timestamp(date: since.addingTimeInterval(Double(hours) * 3_600))
        }
    }

    @Test("query, top, model health: sums, groups, filters; validation, scoping and other tenants' ids")
    func queries() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("analytics-a")
            let b = try await cp.makeTenant("analytics-b")
            let p1 = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: a.ownerAuth)
            let p2 = try await cp.projects.createProject(.with { $0.name = "two" }, metadata: a.ownerAuth)
            let bProject = try await cp.projects.createProject(.with { $0.name = "theirs" }, metadata: b.ownerAuth)
            let aKey = try await cp.auth.createApiKey(.with { $0.name = "ci"; $0.role = .member }, metadata: a.ownerAuth)
            let bKey = try await cp.auth.createApiKey(.with { $0.name = "ci"; $0.role = .member }, metadata: b.ownerAuth)
            let tenantID = try #require(UUID(uuidString: a.id))
            let project1 = try #require(UUID(uuidString: p1.id)), project2 = try #require(UUID(uuidString: p2.id))
            let key = try #require(UUID(uuidString: aKey.apiKey.id))
            let other = UUID()
            var events: [UsageEventRecord] = []
            // gpt-4o in project one: ten requests of 120 ms, one of them a 500; $0.01 each.
            for i in 0 ..< 10 {
                events.append(Self.event(tenantID, "g\(i)", project: project1, key: key, at: Self.hour.addingTimeInterval(Double(i) * 60),
                                         cost: "0.01", status: i == 0 ? 500 : 200))
            }
            // claude in project two, next day, 1200 ms, $2.
            events.append(Self.event(tenantID, "c1", project: project2, key: other, at: Self.hour.addingTimeInterval(86_400),
                                     model: "claude-sonnet-4-5", provider: "anthropic", cost: "2"))
            events[10].latencyMs = 1200
            try await Self.seed(events, tenant: tenantID, cp)

            let analytics = Llmlab_V1_AnalyticsService.Client(wrapping: cp.client)
            let (_, viewerToken) = try await cp.signedInUser(a, role: .viewer)
            let viewer = TestControlPlane.auth(viewerToken)
            let window = Self.range(Self.hour, hours: 48)

            let total = try await analytics.queryCost(.with { $0.filter = window }, metadata: viewer)
            #expect(total.groups.isEmpty)
            #expect(total.total.requests == 11 && total.total.errors == 1 && total.total.costUsd == "2.1")
            #expect(total.total.inputTokens == 1100 && total.total.outputTokens == 110)

            let byDayModel = try await analytics.queryCost(.with { $0.filter = window; $0.groupBy = [.day, .model] }, metadata: viewer)
            #expect(byDayModel.groups.map(\.model) == ["gpt-4o", "claude-sonnet-4-5"])
            #expect(byDayModel.groups.map(\.totals.costUsd) == ["0.1", "2"])
            #expect(byDayModel.groups[0].day.date == ISO8601DateFormatter().date(from: "2026-03-02T00:00:00Z"))
            #expect(byDayModel.groups[0].projectID == "" && !byDayModel.groups[0].hasHour)

            var keyFilter = window
            keyFilter.apiKeyID = aKey.apiKey.id
            let byKey = try await analytics.queryCost(.with { $0.filter = keyFilter; $0.groupBy = [.apiKey, .route] }, metadata: viewer)
            #expect(byKey.groups.map(\.apiKeyID) == [aKey.apiKey.id])
            #expect(byKey.groups.map(\.routeID) == [""])
            #expect(byKey.total.costUsd == "0.1")
            var providerFilter = window
            providerFilter.provider = "anthropic"
            #expect(try await analytics.queryCost(.with { $0.filter = providerFilter }, metadata: viewer).total.requests == 1)

            let top = try await analytics.topN(.with { $0.filter = window; $0.dimension = .project; $0.limit = 1 }, metadata: viewer)
            #expect(top.entries.map(\.projectID) == [p2.id])

            let health = try await analytics.modelHealth(.with { $0.filter = window }, metadata: viewer)
            #expect(health.models.map(\.model) == ["gpt-4o", "claude-sonnet-4-5"])
            let gpt = health.models[0]
            #expect(gpt.requests == 10 && gpt.errors == 1 && gpt.errorRate == 0.1 && gpt.meanLatencyMs == 120)
            // Ten requests in [100, 250): p50 = 100 + 150 × 5/10, p90 = 100 + 150 × 9/10, p99 = 250.
            #expect(gpt.latencyP50Ms == 175 && gpt.latencyP90Ms == 235 && gpt.latencyP99Ms == 250)
            #expect(health.models[1].latencyP50Ms == 2500)  // one request in [1000, 2500): its rank is the bucket top

            // Validation names the field.
            func invalid(_ request: Llmlab_V1_QueryCostRequest, _ field: String) async {
                do {
                    _ = try await analytics.queryCost(request, metadata: viewer)
                    Issue.record("\(field): accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument, "\(field): \(error)")
                    #expect(error.message.contains(field), "\(error.message) does not name \(field)")
                } catch {
                    Issue.record("\(error)")
                }
            }
            await invalid(.init(), "filter.since")
            await invalid(.with { $0.filter = Self.range(Self.hour.addingTimeInterval(60), hours: 1) }, "filter.since")
            await invalid(.with { $0.filter = Self.range(Self.hour, hours: 24 * 400) }, "filter.until")
            await invalid(.with { $0.filter = window; $0.groupBy = [.model, .model] }, "group_by[1]")
            await invalid(.with { $0.filter = window; $0.groupBy = [.unspecified] }, "group_by[0]")
            var badProvider = window
            badProvider.provider = "acme"
            await invalid(.with { $0.filter = badProvider }, "filter.provider")
            #expect(await rpcCode { _ = try await analytics.topN(.with { $0.filter = window; $0.dimension = .day }, metadata: viewer) } == .invalidArgument)

            // Another tenant's ids (and unknown ones) are notFound.
            var theirProject = window
            theirProject.projectID = bProject.id
            var theirKey = window
            theirKey.apiKeyID = bKey.apiKey.id
            var unknownRoute = window
            unknownRoute.routeID = UUID().uuidString.lowercased()
            for filter in [theirProject, theirKey, unknownRoute] {
                #expect(await rpcCode { _ = try await analytics.queryCost(.with { $0.filter = filter }, metadata: a.ownerAuth) } == .notFound)
            }
            #expect(await rpcCode { _ = try await analytics.forecast(.with { $0.projectID = bProject.id }, metadata: a.ownerAuth) } == .notFound)
            let theirs = try await analytics.queryCost(.with { $0.filter = window }, metadata: b.ownerAuth)
            #expect(theirs.total.requests == 0 && theirs.total.costUsd == "0")

            // A key scoped to project one sees only project one.
            let scopedKey = try await cp.auth.createApiKey(.with { $0.name = "dash"; $0.role = .viewer; $0.projectID = p1.id }, metadata: a.ownerAuth)
            let scoped = TestControlPlane.auth(scopedKey.secret)
            let mine = try await analytics.queryCost(.with { $0.filter = window; $0.groupBy = [.project] }, metadata: scoped)
            #expect(mine.groups.map(\.projectID) == [p1.id])
            #expect(mine.total.costUsd == "0.1")
            var otherProject = window
            otherProject.projectID = p2.id
            #expect(await rpcCode { _ = try await analytics.queryCost(.with { $0.filter = otherProject }, metadata: scoped) } == .notFound)
            let scopedForecast = try await analytics.forecast(.init(), metadata: scoped)
            #expect(scopedForecast.forecasts.map(\.projectID) == [p1.id])
        }
    }

    @Test("cost by end user: grouping, filter, top users over whole days; only with project and day; not in model health")
    func byUser() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("analytics-users")
            let project = try await cp.projects.createProject(.with { $0.name = "chat" }, metadata: a.ownerAuth)
            let tenantID = try #require(UUID(uuidString: a.id))
            let projectID = try #require(UUID(uuidString: project.id))
            let key = UUID()
            var events: [UsageEventRecord] = []
            for (i, user) in ["alice", "alice", "bob", ""].enumerated() {
                var event = Self.event(tenantID, "u\(i)", project: projectID, key: key, at: Self.hour.addingTimeInterval(Double(i) * 60),
                                       cost: user == "bob" ? "0.5" : "0.25")
                event.endUser = user
                events.append(event)
            }
            try await Self.seed(events, tenant: tenantID, cp)
            let analytics = Llmlab_V1_AnalyticsService.Client(wrapping: cp.client)
            // Cost by user is kept per UTC day: the window is whole days.
            let window = Self.range(ISO8601DateFormatter().date(from: "2026-03-02T00:00:00Z")!, hours: 24)

            let byUser = try await analytics.queryCost(.with { $0.filter = window; $0.groupBy = [.user] }, metadata: a.ownerAuth)
            #expect(byUser.groups.map(\.user) == ["alice", "bob", ""])
            #expect(byUser.groups.map(\.totals.costUsd) == ["0.5", "0.5", "0.25"])
            #expect(byUser.groups.map(\.totals.requests) == [2, 1, 1])
            #expect(byUser.total.costUsd == "1.25" && byUser.total.requests == 4)

            var onlyBob = window
            onlyBob.user = "bob"
            let bob = try await analytics.queryCost(.with { $0.filter = onlyBob; $0.groupBy = [.project, .day] }, metadata: a.ownerAuth)
            #expect(bob.total.costUsd == "0.5" && bob.groups.map(\.projectID) == [project.id])
            #expect(bob.groups.first?.day.date == ISO8601DateFormatter().date(from: "2026-03-02T00:00:00Z"))

            let top = try await analytics.topN(.with { $0.filter = window; $0.dimension = .user; $0.limit = 2 }, metadata: a.ownerAuth)
            #expect(top.entries.map(\.user) == ["alice", "bob"])

            func refused(_ call: @Sendable () async throws -> Void, _ field: String) async {
                do {
                    try await call()
                    Issue.record("\(field): accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument && error.message.contains(field), "\(error)")
                } catch {
                    Issue.record("\(error)")
                }
            }
            await refused({ _ = try await analytics.queryCost(.with { $0.filter = window; $0.groupBy = [.user, .apiKey] }, metadata: a.ownerAuth) }, "group_by")
            await refused({ _ = try await analytics.queryCost(.with { $0.filter = window; $0.groupBy = [.user, .model] }, metadata: a.ownerAuth) }, "group_by")
            await refused({ _ = try await analytics.topN(.with { $0.filter = Self.range(Self.hour, hours: 2); $0.dimension = .user }, metadata: a.ownerAuth) }, "filter.since")
            var bobByModel = onlyBob
            bobByModel.model = "gpt-4o"
            let bobModel = bobByModel
            await refused({ _ = try await analytics.queryCost(.with { $0.filter = bobModel }, metadata: a.ownerAuth) }, "filter.user")
            var bobAndRoute = onlyBob
            bobAndRoute.routeID = UUID().uuidString.lowercased()
            let bobRoute = bobAndRoute, bobOnly = onlyBob
            await refused({ _ = try await analytics.queryCost(.with { $0.filter = bobRoute }, metadata: a.ownerAuth) }, "filter.user")
            await refused({ _ = try await analytics.modelHealth(.with { $0.filter = bobOnly }, metadata: a.ownerAuth) }, "filter.user")
            var tooLong = window
            tooLong.user = String(repeating: "u", count: 200)
            let long = tooLong
            await refused({ _ = try await analytics.queryCost(.with { $0.filter = long }, metadata: a.ownerAuth) }, "filter.user")
        }
    }

    @Test("top traces by cost: costliest first, filtered by project, model and user; trace only in TopN")
    func topTraces() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("analytics-traces")
            let b = try await cp.makeTenant("analytics-traces-b")
            let p1 = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: a.ownerAuth)
            let p2 = try await cp.projects.createProject(.with { $0.name = "two" }, metadata: a.ownerAuth)
            try await TraceSeed.insert(TraceSeed.spans(project1: try #require(UUID(uuidString: p1.id)),
                                                       project2: try #require(UUID(uuidString: p2.id))), tenant: a.id, into: cp)
            let analytics = Llmlab_V1_AnalyticsService.Client(wrapping: cp.client)
            let hour = Date(timeIntervalSince1970: Double(TraceSeed.base / 3_600 * 3_600))
            let window = Self.range(hour, hours: 1)

            let top = try await analytics.topN(.with { $0.filter = window; $0.dimension = .trace }, metadata: a.ownerAuth)
            #expect(top.entries.map(\.traceID) == [TraceSeed.healthy, TraceSeed.fallback, TraceSeed.failing])
            #expect(top.entries.map(\.totals.costUsd) == ["0.5", "0.0105", "0.0021"])
            #expect(top.entries.map(\.traceName) == ["answer-question", "support-bot", "travel-planner"])
            #expect(top.entries[2].totals.errors == 3 && top.entries[1].totals.requests == 2 && top.entries[1].user == "u-3")

            var inProject = window
            inProject.projectID = p1.id
            #expect(try await analytics.topN(.with { $0.filter = inProject; $0.dimension = .trace }, metadata: a.ownerAuth)
                .entries.map(\.traceID) == [TraceSeed.healthy, TraceSeed.failing])
            var withModel = window
            withModel.model = "gpt-4o"
            #expect(try await analytics.topN(.with { $0.filter = withModel; $0.dimension = .trace; $0.limit = 1 }, metadata: a.ownerAuth)
                .entries.map(\.traceID) == [TraceSeed.fallback])
            var ofUser = window
            ofUser.user = "u-1"
            #expect(try await analytics.topN(.with { $0.filter = ofUser; $0.dimension = .trace }, metadata: a.ownerAuth)
                .entries.map(\.traceID) == [TraceSeed.failing])

            var byProvider = window
            byProvider.provider = "openai"
            let providerFilter = byProvider
            #expect(await rpcCode { _ = try await analytics.topN(.with { $0.filter = providerFilter; $0.dimension = .trace }, metadata: a.ownerAuth) } == .invalidArgument)
            #expect(await rpcCode { _ = try await analytics.queryCost(.with { $0.filter = window; $0.groupBy = [.trace] }, metadata: a.ownerAuth) } == .invalidArgument)
            // Another tenant sees none of them, and may not name this tenant's project.
            #expect(try await analytics.topN(.with { $0.filter = window; $0.dimension = .trace }, metadata: b.ownerAuth).entries.isEmpty)
            let theirs = inProject
            #expect(await rpcCode { _ = try await analytics.topN(.with { $0.filter = theirs; $0.dimension = .trace }, metadata: b.ownerAuth) } == .notFound)
        }
    }

    @Test("forecast: a seeded weekday series projects as worked out by hand")
    func forecast() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("analytics-forecast")
            let busy = try await cp.projects.createProject(.with { $0.name = "busy"; $0.monthlyBudgetUsd = "160" }, metadata: t.ownerAuth)
            let idle = try await cp.projects.createProject(.with { $0.name = "idle" }, metadata: t.ownerAuth)
            let tenantID = try #require(UUID(uuidString: t.id))
            let project = try #require(UUID(uuidString: busy.id))
            // 2026-03-02 (Mon) … 2026-03-29 (Sun): Mondays 8, 10, 12, 14; Tuesdays 1, 2, 3, 4; other days 5.
            let start = ISO8601DateFormatter().date(from: "2026-03-02T12:00:00Z")!
            var mondays = ["8", "10", "12", "14"].makeIterator(), tuesdays = ["1", "2", "3", "4"].makeIterator()
            var events: [UsageEventRecord] = []
            for day in 0 ..< 28 {
                let cost = day % 7 == 0 ? mondays.next()! : day % 7 == 1 ? tuesdays.next()! : "5"
                events.append(Self.event(tenantID, "d\(day)", project: project, key: UUID(),
                                         at: start.addingTimeInterval(Double(day) * 86_400), cost: cost))
            }
            try await Self.seed(events, tenant: tenantID, cp)

            let asOf = ISO8601DateFormatter().date(from: "2026-03-30T00:00:00Z")!
            let response = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client)
                .forecast(.with { $0.asOf = Google_Protobuf_Timestamp(date: asOf) }, metadata: t.ownerAuth)
            let forecast = try #require(response.forecasts.first { $0.projectID == busy.id })
            // Month to date 44 + 10 + 20 × 5 = 154; Monday 30th at mean 11 (P20 9.2, P80 12.8),
            // Tuesday 31st at mean 2.5 (P20 1.6, P80 3.4).
            #expect(forecast.monthToDateUsd == "154")
            #expect(forecast.projectedMonthEndUsd == "167.5")
            #expect(forecast.lowUsd == "164.8")
            #expect(forecast.highUsd == "170.2")
            #expect(forecast.method == "weekday_trailing_28d")
            #expect(forecast.historyDays == 28)
            #expect(forecast.budgetUsd == "160.00" || forecast.budgetUsd == "160")
            #expect(forecast.forecastToExceedBudget)
            #expect(forecast.monthStart.date == ISO8601DateFormatter().date(from: "2026-03-01T00:00:00Z"))
            let quiet = try #require(response.forecasts.first { $0.projectID == idle.id })
            #expect(quiet.method == "no_history" && quiet.projectedMonthEndUsd == "0" && quiet.budgetUsd == "")
            #expect(!quiet.forecastToExceedBudget)

            let future = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(86_400))
            #expect(await rpcCode {
                _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).forecast(.with { $0.asOf = future }, metadata: t.ownerAuth)
            } == .invalidArgument)
        }
    }
}
