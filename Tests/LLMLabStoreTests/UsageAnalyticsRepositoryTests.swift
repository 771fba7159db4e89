import Foundation
import LLMLabStore
import LLMLabTenantSchema
import LLMLabTestSupport
import Logging
import PostgresNIO
import Testing

/// The analytics rollup against a real database: maintained by `UsageEventRepository.insert`
/// (idempotently), backfilled by migration 0006 to the same sums, and read back grouped,
/// filtered and ranked.
@Suite("Usage analytics repository")
struct UsageAnalyticsRepositoryTests {
    static let hour = ISO8601DateFormatter().date(from: "2026-03-02T10:00:00Z")!
    static let p1 = UUID(), p2 = UUID(), k1 = UUID(), k2 = UUID(), k3 = UUID(), r1 = UUID()

    static func event(_ tenant: UUID, _ id: String, project: UUID, key: UUID, route: UUID?, provider: String = "openai",
                      model: String = "gpt-4o", minutes: Double, cost: String?, latency: Int32, status: Int32 = 200,
                      input: Int64 = 0, output: Int64 = 0) -> UsageEventRecord {
        UsageEventRecord(tenantID: tenant, requestID: id, occurredAt: hour.addingTimeInterval(minutes * 60), projectID: project,
                         apiKeyID: key, routeID: route, provider: provider, model: model, inputTokens: input, cachedInputTokens: 10,
                         cacheWrite5mTokens: 1, cacheWrite1hTokens: 2, outputTokens: output, reasoningTokens: 5, costUSD: cost,
                         unpricedReason: cost == nil ? "unknown_model: not in the catalog" : "", latencyMs: latency,
                         status: status, streamed: false)
    }

    static func events(_ tenant: UUID) -> [UsageEventRecord] {
        [
            event(tenant, "e1", project: p1, key: k1, route: r1, minutes: 5, cost: "0.10", latency: 120, input: 100, output: 50),
            event(tenant, "e2", project: p1, key: k1, route: r1, minutes: 30, cost: "0.20", latency: 120, status: 500, input: 10),
            event(tenant, "e3", project: p1, key: k2, route: nil, provider: "anthropic", model: "claude-sonnet-4-5", minutes: 70,
                  cost: "1.5", latency: 1200, input: 1000, output: 500),
            event(tenant, "e4", project: p2, key: k3, route: nil, minutes: 25 * 60, cost: nil, latency: 40, status: 429),
        ]
    }

    static var logger: Logger {
        var logger = Logger(label: "llmlab.test.analytics")
        logger.logLevel = .warning
        return logger
    }

    static func provisionTenant(in database: Database) async throws -> TenantScope {
        let scope = TenantScope(tenantID: UUID())
        let slug = "t-" + scope.hex.prefix(12)
        try await database.withControlTransaction { connection in
            try await connection.query("""
                INSERT INTO control.tenants (id, slug, display_name, schema_name, role_name, wrapped_data_key)
                VALUES (\(scope.tenantID), \(slug), \(slug), \(scope.schemaName), \(scope.roleName), '\\x00'::bytea)
                """, logger: logger)
            try await TenantSchemaProvisioner.provision(scope, on: connection, logger: logger)
        }
        return scope
    }

    @Test("rollup kept on write, replay-safe, equal to the migration's backfill; groups, filters, ranking, forecast inputs")
    func rollup() async throws {
        let test = try await TestPostgres.makeDatabase(label: "usage_analytics")
        do {
            let scope = try await Self.provisionTenant(in: test.database)
            let logger = Self.logger
            let all = AnalyticsFilter(since: Self.hour.addingTimeInterval(-3_600), until: Self.hour.addingTimeInterval(48 * 3_600))
            let events = Self.events(scope.tenantID)
            let inserted = try await test.database.withTenantTransaction(scope) { connection in
                let usage = UsageEventRepository(connection, logger: logger)
                let first = try await usage.insert(events)
                let replay = try await usage.insert([events[0], events[2]])
                return (first, replay)
            }
            #expect(inserted.0 == 4 && inserted.1 == 0)

            let groupings: [[AnalyticsDimension]] = [[], [.provider], [.model], [.project], [.apiKey], [.route], [.day], [.hour],
                                                     [.day, .provider, .model]]
            func read() async throws -> [[UsageGroupRecord]] {
                try await test.database.withTenantTransaction(scope) { connection in
                    let repository = UsageAnalyticsRepository(connection, logger: logger)
                    var result: [[UsageGroupRecord]] = []
                    for groupBy in groupings { result.append(try await repository.groups(all, groupBy: groupBy, limit: 100, latency: true)) }
                    return result
                }
            }
            let written = try await read()

            // Totals.
            let total = try #require(written[0].first).totals
            #expect(total.requests == 4 && total.errors == 2 && total.unpricedRequests == 1)
            #expect(total.costUSD == "1.8")
            #expect(total.inputTokens == 1110 && total.outputTokens == 550 && total.cachedInputTokens == 40)
            #expect(total.cacheWrite5mTokens == 4 && total.cacheWrite1hTokens == 8 && total.reasoningTokens == 20)
            #expect(total.latencyMsSum == 120 + 120 + 1200 + 40)
            // [0,50): 1 · [100,250): 2 · [1000,2500): 1
            #expect(total.latencyBuckets == [1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0])

            // Each dimension, by cost descending.
            #expect(written[1].map(\.provider) == ["anthropic", "openai"])
            #expect(written[1].map(\.totals.costUSD) == ["1.5", "0.3"])
            #expect(written[1].map(\.totals.requests) == [1, 3])
            #expect(written[2].map(\.model) == ["claude-sonnet-4-5", "gpt-4o"])
            #expect(written[3].map(\.projectID) == [Self.p1, Self.p2])
            #expect(written[3].map(\.totals.costUSD) == ["1.8", "0"])
            #expect(written[4].map(\.apiKeyID) == [Self.k2, Self.k1, Self.k3])
            #expect(written[5].count == 2)
            #expect(written[5][0].routeID == .some(nil) && written[5][0].totals.requests == 2)  // e3 + e4: no route, 1.5
            #expect(written[5][1].routeID == .some(Self.r1) && written[5][1].totals.costUSD == "0.3")
            // Time dimensions ascending.
            #expect(written[6].map(\.day) == [ISO8601DateFormatter().date(from: "2026-03-02T00:00:00Z"),
                                              ISO8601DateFormatter().date(from: "2026-03-03T00:00:00Z")])
            #expect(written[6].map(\.totals.requests) == [3, 1])
            #expect(written[7].map(\.hour) == [Self.hour, Self.hour.addingTimeInterval(3_600), Self.hour.addingTimeInterval(25 * 3_600)])
            #expect(written[8].map(\.totals.requests) == [1, 2, 1])
            #expect(written[8].map(\.model) == ["claude-sonnet-4-5", "gpt-4o", "gpt-4o"])

            // Filters, each alone, and ranking with a limit.
            let filtered = try await test.database.withTenantTransaction(scope) { connection in
                let repository = UsageAnalyticsRepository(connection, logger: logger)
                var cases: [AnalyticsFilter] = []
                var f = all; f.provider = "openai"; cases.append(f)
                f = all; f.model = "claude-sonnet-4-5"; cases.append(f)
                f = all; f.projectID = Self.p2; cases.append(f)
                f = all; f.apiKeyID = Self.k1; cases.append(f)
                f = all; f.routeID = Self.r1; cases.append(f)
                f = all; f.since = Self.hour; f.until = Self.hour.addingTimeInterval(3_600); cases.append(f)
                var totals: [UsageTotals] = []
                for filter in cases { totals.append(try await repository.groups(filter, groupBy: [], limit: 1)[0].totals) }
                let top = try await repository.groups(all, groupBy: [.model], limit: 1)
                return (totals, top)
            }
            #expect(filtered.0.map(\.requests) == [3, 1, 1, 2, 2, 2])
            #expect(filtered.0.map(\.costUSD) == ["0.3", "1.5", "0", "0.3", "0.3", "0.3"])
            #expect(filtered.1.map(\.model) == ["claude-sonnet-4-5"])

            // Forecast inputs.
            let (daily, spend, first) = try await test.database.withTenantTransaction(scope) { connection in
                let repository = UsageAnalyticsRepository(connection, logger: logger)
                return (try await repository.dailySpend(projectIDs: [Self.p1, Self.p2], since: all.since, until: all.until),
                        try await repository.spend(projectIDs: [Self.p1], since: all.since, until: Self.hour.addingTimeInterval(3_600)),
                        try await repository.firstUsageDay(projectIDs: [Self.p1, Self.p2, UUID()]))
            }
            let day = Int(Self.hour.timeIntervalSince1970 / 86_400)
            #expect(daily[Self.p1] == [day: "1.8"])
            #expect(daily[Self.p2] == [day + 1: "0"])
            #expect(spend == [Self.p1: "0.3"])
            #expect(first == [Self.p1: day, Self.p2: day + 1])

            // The migration's backfill gives the same rollup as the write path.
            let migration = try #require(TenantSchema.migrations.first { $0.version == 6 }).sql
            let backfill = try #require(migration.range(of: "INSERT INTO usage_rollup_hourly"))
            let backfillSQL = String(migration[backfill.lowerBound...])
            try await test.database.withTenantTransaction(scope) { connection in
                try await connection.query("DELETE FROM usage_rollup_hourly", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: backfillSQL), logger: logger)
            }
            #expect(try await read() == written)

            // The daily rollup, kept on write, is the hourly one summed per UTC day; and so is
            // migration 0012's backfill of it.
            let dailyQuery = """
                SELECT day, project_id, provider, model, api_key_id, route_id, requests, errors, cost_usd::text,
                       latency_ms_sum, latency_buckets FROM usage_rollup_daily ORDER BY 1, 2, 3, 4, 5, 6
                """
            let summedQuery = """
                SELECT date_trunc('day', hour, 'UTC'), project_id, provider, model, api_key_id, route_id, sum(requests)::int8,
                       sum(errors)::int8, sum(cost_usd)::text, sum(latency_ms_sum)::int8,
                       ARRAY[\((1...11).map { "sum(latency_buckets[\($0)])" }.joined(separator: ", "))]::int8[]
                FROM usage_rollup_hourly GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
                """
            typealias DailyRow = (Date, UUID, String, String, UUID, UUID, Int64, Int64, String, Int64, [Int64])
            func rows(_ sql: String) async throws -> [String] {
                try await test.database.withTenantTransaction(scope) { connection in
                    var result: [String] = []
                    for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(DailyRow.self) {
                        result.append("\(row)")
                    }
                    return result
                }
            }
            let onWrite = try await rows(dailyQuery)
            let summed = try await rows(summedQuery)
            #expect(onWrite.count == 3 && onWrite == summed)
            let dailyMigration = try #require(TenantSchema.migrations.first { $0.version == 12 }).sql
            let dailyBackfill = String(dailyMigration[try #require(dailyMigration.range(of: "INSERT INTO usage_rollup_daily")).lowerBound...])
            try await test.database.withTenantTransaction(scope) { connection in
                try await connection.query("DELETE FROM usage_rollup_daily", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: dailyBackfill), logger: logger)
            }
            let backfilled = try await rows(dailyQuery)
            #expect(backfilled == onWrite)
            #expect(try await read() == written)
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }
}
