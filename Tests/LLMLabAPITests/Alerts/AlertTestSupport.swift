import Foundation
import GRPCCore
@testable import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf

/// Synthetic usage written straight into the rollups the evaluator reads (the usage
/// writer maintains the same three tables on every batch), plus small helpers.
enum AlertFixtures {
    static let zero = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!

    /// UTC date from components.
    static func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    static func scope(_ tenant: TestControlPlane.Tenant) -> TenantScope {
        TenantScope(tenantID: UUID(uuidString: tenant.id)!)
    }

    /// Adds `cost` (exact decimal text) of usage by `key` in `project` at `at`'s hour.
    static func spend(_ cp: TestControlPlane, _ tenant: TestControlPlane.Tenant, project: UUID, key: UUID, at: Date,
                      cost: String) async throws {
        let hour = AlertRuleMath.hourStart(at)
        try await cp.database.database.withTenantTransaction(scope(tenant)) { connection in
            try await connection.query("""
                INSERT INTO usage_hourly AS u (project_id, provider, model, hour, requests, cost_usd)
                VALUES (\(project), 'openai', 'gpt-4o-mini', \(hour), 1, \(cost)::numeric)
                ON CONFLICT (project_id, provider, model, hour)
                DO UPDATE SET requests = u.requests + 1, cost_usd = u.cost_usd + excluded.cost_usd
                """, logger: TestControlPlane.logger)
            try await connection.query("""
                INSERT INTO usage_key_monthly AS k (api_key_id, month, requests, cost_usd)
                VALUES (\(key), date_trunc('month', \(hour), 'UTC')::date, 1, \(cost)::numeric)
                ON CONFLICT (api_key_id, month)
                DO UPDATE SET requests = k.requests + 1, cost_usd = k.cost_usd + excluded.cost_usd
                """, logger: TestControlPlane.logger)
            try await connection.query("""
                INSERT INTO usage_rollup_hourly AS r (hour, project_id, provider, model, api_key_id, route_id, requests, cost_usd,
                                                      latency_buckets)
                VALUES (\(hour), \(project), 'openai', 'gpt-4o-mini', \(key), \(zero), 1, \(cost)::numeric,
                        array_fill(0::int8, ARRAY[11]))
                ON CONFLICT (hour, project_id, provider, model, api_key_id, route_id)
                DO UPDATE SET requests = r.requests + 1, cost_usd = r.cost_usd + excluded.cost_usd
                """, logger: TestControlPlane.logger)
        }
    }

    /// Sets a rule straight through the repository (the RPC has its own tests).
    static func rule(_ cp: TestControlPlane, _ tenant: TestControlPlane.Tenant, kind: String = "project", subject: UUID,
                     thresholds: [Int] = AlertRuleMath.defaultThresholds, forecast: Bool = false, spikeFactor: String? = nil,
                     spikeMin: String? = nil) async throws {
        try await cp.database.database.withTenantTransaction(scope(tenant)) { connection in
            _ = try await AlertRuleRepository(connection, logger: TestControlPlane.logger).upsert(AlertRuleRecord(
                id: UUID(), subjectKind: kind, subjectID: subject, thresholds: thresholds, forecast: forecast,
                spikeFactor: spikeFactor, spikeMinUSD: spikeMin))
        }
    }

    /// Every alert fired in the tenant, oldest first (then by kind and threshold).
    static func events(_ cp: TestControlPlane, _ tenant: TestControlPlane.Tenant) async throws -> [AlertEventRecord] {
        try await cp.database.database.withTenantTransaction(scope(tenant)) { connection in
            try await AlertEventRepository(connection, logger: TestControlPlane.logger).list(limit: 500).map(\.event)
                .sorted { ($0.firedAt, $0.kind, $0.threshold) < ($1.firedAt, $1.kind, $1.threshold) }
        }
    }

    /// A project with a monthly budget, and a proxy key in it.
    static func project(_ cp: TestControlPlane, _ tenant: TestControlPlane.Tenant, name: String, budget: String?,
                        keyBudget: String? = nil) async throws -> (project: UUID, key: UUID) {
        let project = try await cp.projects.createProject(.with {
            $0.name = name
            if let budget { $0.monthlyBudgetUsd = budget }
        }, metadata: tenant.ownerAuth)
        let key = try await cp.auth.createApiKey(.with {
            $0.name = "\(name) key"
            $0.role = .member
            $0.projectID = project.id
            $0.scopes = ["proxy"]
            if let keyBudget { $0.monthlyBudgetUsd = keyBudget }
        }, metadata: tenant.ownerAuth)
        return (UUID(uuidString: project.id)!, UUID(uuidString: key.apiKey.id)!)
    }

    static func evaluator(_ cp: TestControlPlane, interval: Duration = .seconds(10)) -> AlertEvaluator {
        var configuration = AlertEvaluator.Configuration()
        configuration.interval = interval
        return AlertEvaluator(database: cp.database.database, configuration: configuration, logger: TestControlPlane.logger)
    }
}
