public import Foundation
public import Logging
public import PostgresNIO

/// What the alert evaluator reads, from the rollups only (`usage_hourly`,
/// `usage_key_monthly`, `usage_rollup_hourly`), never from `usage_events`. Amounts are exact
/// decimal text. Use the tenant methods inside a tenant transaction and
/// ``budgetedKeys()`` inside a control transaction.
public struct AlertInputRepository: Sendable {
    /// Whose rollup rows to read.
    public enum Subject: String, Sendable {
        case project
        case apiKey = "api_key"

        var column: String { self == .project ? "project_id" : "api_key_id" }
    }

    /// A live project as alerting sees it.
    public struct Project: Sendable, Hashable {
        public var id: UUID
        public var name: String
        /// Exact decimal text; nil when the project has no budget.
        public var budgetUSD: String?
    }

    /// An API key with a monthly budget (control schema).
    public struct Key: Sendable, Hashable {
        public var tenantID: UUID
        public var id: UUID
        public var name: String
        public var projectID: UUID?
        /// Exact decimal text; nil when the key has no budget.
        public var budgetUSD: String?

        public init(tenantID: UUID, id: UUID, name: String, projectID: UUID?, budgetUSD: String?) {
            self.tenantID = tenantID
            self.id = id
            self.name = name
            self.projectID = projectID
            self.budgetUSD = budgetUSD
        }
    }

    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// One short text that changes whenever anything an alert depends on may have changed:
    /// this month's per-key rollup (every usage event lands there), the rules, the projects'
    /// budgets and the proxy's undispatched budget events. Small tables and a partial
    /// index: cheap enough to run for every tenant every few seconds.
    public func fingerprint(month: Date) async throws -> String {
        let rows = try await connection.query("""
            SELECT concat_ws('|',
                (SELECT coalesce(sum(requests), 0)::text || '/' || coalesce(sum(cost_usd), 0)::text
                 FROM usage_key_monthly WHERE month = (\(month) AT TIME ZONE 'UTC')::date),
                (SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM alert_rules),
                (SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM projects),
                (SELECT count(*)::text FROM budget_events WHERE dispatched_at IS NULL))
            """, logger: logger)
        var result = ""
        for try await text in rows.decode(String.self) { result = text }
        return result
    }

    public func liveProjects() async throws -> [Project] {
        let rows = try await connection.query(
            "SELECT id, name, monthly_budget_usd::text FROM projects WHERE archived_at IS NULL", logger: logger)
        var result: [Project] = []
        for try await (id, name, budget) in rows.decode((UUID, String, String?).self) {
            result.append(Project(id: id, name: name, budgetUSD: budget.map(ProjectRepository.trimNumeric)))
        }
        return result
    }

    /// Spend per project in `[from, to)` from `usage_hourly` (what the proxy's budget
    /// check reads too).
    public func projectSpend(from: Date, to: Date) async throws -> [UUID: String] {
        let rows = try await connection.query("""
            SELECT project_id, sum(cost_usd)::text FROM usage_hourly WHERE hour >= \(from) AND hour < \(to) GROUP BY project_id
            """, logger: logger)
        var result: [UUID: String] = [:]
        for try await (id, spent) in rows.decode((UUID, String).self) { result[id] = spent }
        return result
    }

    /// Spend per API key in the calendar month starting at `month` (UTC).
    public func keySpend(month: Date) async throws -> [UUID: String] {
        let rows = try await connection.query("""
            SELECT api_key_id, cost_usd::text FROM usage_key_monthly WHERE month = (\(month) AT TIME ZONE 'UTC')::date
            """, logger: logger)
        var result: [UUID: String] = [:]
        for try await (id, spent) in rows.decode((UUID, String).self) { result[id] = spent }
        return result
    }

    /// Per subject: spend in the hour starting at `hour`, in the hour before it, and in the
    /// `baselineHours` hours before it (from `usage_rollup_hourly`).
    public func hourWindow(_ subject: Subject, ids: [UUID], hour: Date, baselineHours: Int) async throws
        -> [UUID: (current: String, previous: String, baseline: String)]
    {
        guard !ids.isEmpty else { return [:] }
        let from = hour.addingTimeInterval(-Double(baselineHours) * 3600)
        let until = hour.addingTimeInterval(3600)
        let previousHour = hour.addingTimeInterval(-3600)
        let rows = try await connection.query("""
            SELECT \(unescaped: subject.column),
                   coalesce(sum(cost_usd) FILTER (WHERE hour >= \(hour)), 0)::text,
                   coalesce(sum(cost_usd) FILTER (WHERE hour = \(previousHour)), 0)::text,
                   coalesce(sum(cost_usd) FILTER (WHERE hour < \(hour)), 0)::text
            FROM usage_rollup_hourly
            WHERE \(unescaped: subject.column) = ANY(\(ids)) AND hour >= \(from) AND hour < \(until)
            GROUP BY 1
            """, logger: logger)
        var result: [UUID: (current: String, previous: String, baseline: String)] = [:]
        for try await (id, current, previous, baseline) in rows.decode((UUID, String, String, String).self) {
            result[id] = (current, previous, baseline)
        }
        return result
    }

    /// Per subject: spend per complete UTC day (day number since 1970) in `[since, until)`.
    public func dailySpend(_ subject: Subject, ids: [UUID], since: Date, until: Date) async throws -> [UUID: [Int: String]] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query("""
            SELECT \(unescaped: subject.column), (extract(epoch FROM date_trunc('day', hour, 'UTC')) / 86400)::int8,
                   sum(cost_usd)::text
            FROM usage_rollup_hourly
            WHERE \(unescaped: subject.column) = ANY(\(ids)) AND hour >= \(since) AND hour < \(until)
            GROUP BY 1, 2
            """, logger: logger)
        var result: [UUID: [Int: String]] = [:]
        for try await (id, day, spent) in rows.decode((UUID, Int64, String).self) { result[id, default: [:]][Int(day)] = spent }
        return result
    }

    /// Per subject: the day number of its first usage, bounded below by the day before
    /// `windowStart` (the forecaster reads nothing older), so the scan stays within the window.
    public func firstUsageDay(_ subject: Subject, ids: [UUID], windowStart: Date) async throws -> [UUID: Int] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query("""
            SELECT s.id,
                   CASE WHEN EXISTS (SELECT 1 FROM usage_rollup_hourly r
                                     WHERE r.\(unescaped: subject.column) = s.id AND r.hour < \(windowStart))
                        THEN (extract(epoch FROM \(windowStart)) / 86400)::int8 - 1
                        ELSE (SELECT (extract(epoch FROM date_trunc('day', min(r.hour), 'UTC')) / 86400)::int8
                              FROM usage_rollup_hourly r WHERE r.\(unescaped: subject.column) = s.id AND r.hour >= \(windowStart))
                   END
            FROM unnest(\(ids)::uuid[]) AS s(id)
            """, logger: logger)
        var result: [UUID: Int] = [:]
        for try await (id, day) in rows.decode((UUID, Int64?).self) {
            if let day { result[id] = Int(day) }
        }
        return result
    }

    /// Control schema: every unrevoked, unexpired API key of every tenant that has a
    /// monthly budget, or of `tenantID` only.
    public func budgetedKeys(tenantID: UUID? = nil) async throws -> [Key] {
        let rows = try await connection.query("""
            SELECT tenant_id, id, name, project_id, monthly_budget_usd::text FROM control.api_keys
            WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND monthly_budget_usd IS NOT NULL
              AND (\(tenantID)::uuid IS NULL OR tenant_id = \(tenantID))
            """, logger: logger)
        return try await Self.decodeKeys(rows)
    }

    /// Control schema: the named keys of a tenant (revoked ones excluded), budget or not.
    public func keys(tenantID: UUID, ids: [UUID]) async throws -> [Key] {
        guard !ids.isEmpty else { return [] }
        let rows = try await connection.query("""
            SELECT tenant_id, id, name, project_id, monthly_budget_usd::text FROM control.api_keys
            WHERE tenant_id = \(tenantID) AND id = ANY(\(ids)) AND revoked_at IS NULL
            """, logger: logger)
        return try await Self.decodeKeys(rows)
    }

    static func decodeKeys(_ rows: PostgresRowSequence) async throws -> [Key] {
        var result: [Key] = []
        for try await (tenant, id, name, project, budget) in rows.decode((UUID, UUID, String, UUID?, String?).self) {
            result.append(Key(tenantID: tenant, id: id, name: name, projectID: project, budgetUSD: budget.map(ProjectRepository.trimNumeric)))
        }
        return result
    }
}
