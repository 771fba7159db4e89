public import Foundation
public import Logging
public import PostgresNIO

/// What budget enforcement reads and records in a tenant schema (use inside a tenant
/// transaction): month-to-date spend from the rollups, the project's limit, and soft
/// threshold crossings in `budget_events`.
public struct BudgetRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// The project's monthly budget (exact decimal text, nil when none or no such project)
    /// and its spend in `[from, to)` from `usage_hourly` (exact decimal text).
    public func projectSpend(projectID: UUID, from: Date, to: Date) async throws -> (budget: String?, spent: String) {
        let rows = try await connection.query("""
            SELECT (SELECT monthly_budget_usd::text FROM projects WHERE id = \(projectID) AND archived_at IS NULL),
                   (SELECT coalesce(sum(cost_usd), 0)::text FROM usage_hourly
                    WHERE project_id = \(projectID) AND hour >= \(from) AND hour < \(to))
            """, logger: logger)
        // Read the stream to its end (leaving it early cancels the query mid-transaction).
        var result: (budget: String?, spent: String) = (nil, "0")
        for try await (budget, spent) in rows.decode((String?, String).self) {
            result = (budget.map(ProjectRepository.trimNumeric), spent)
        }
        return result
    }

    /// A key's spend in the calendar month starting at `month` (UTC), from `usage_key_monthly`.
    public func keySpend(apiKeyID: UUID, month: Date) async throws -> String {
        let rows = try await connection.query("""
            SELECT coalesce(sum(cost_usd), 0)::text FROM usage_key_monthly
            WHERE api_key_id = \(apiKeyID) AND month = (\(month) AT TIME ZONE 'UTC')::date
            """, logger: logger)
        var result = "0"
        for try await spent in rows.decode(String.self) { result = spent }
        return result
    }

    /// Thresholds already recorded for a subject in a period.
    public func recordedThresholds(subjectKind: String, subjectID: UUID, period: Date) async throws -> Set<Int> {
        let rows = try await connection.query("""
            SELECT threshold_pct FROM budget_events
            WHERE subject_kind = \(subjectKind) AND subject_id = \(subjectID) AND period = (\(period) AT TIME ZONE 'UTC')::date
            """, logger: logger)
        var result = Set<Int>()
        for try await pct in rows.decode(Int32.self) { result.insert(Int(pct)) }
        return result
    }

    /// Records a threshold crossing once; returns false when it was already recorded.
    @discardableResult
    public func recordThreshold(subjectKind: String, subjectID: UUID, projectID: UUID, period: Date, thresholdPct: Int,
                                spentUSD: String, limitUSD: String) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO budget_events (subject_kind, subject_id, project_id, period, threshold_pct, spent_usd, limit_usd)
            VALUES (\(subjectKind), \(subjectID), \(projectID), (\(period) AT TIME ZONE 'UTC')::date, \(Int32(thresholdPct)),
                    \(spentUSD)::numeric, \(limitUSD)::numeric)
            ON CONFLICT DO NOTHING
            RETURNING 1
            """, logger: logger)
        var inserted = false
        for try await _ in rows { inserted = true }
        return inserted
    }

    /// One row of `budget_events`.
    public struct Event: Sendable, Hashable {
        public var subjectKind: String
        public var subjectID: UUID
        public var projectID: UUID
        public var thresholdPct: Int
        public var spentUSD: String
        public var limitUSD: String
    }

    /// Every recorded threshold crossing, oldest first (tests, alerting).
    public func events() async throws -> [Event] {
        let rows = try await connection.query("""
            SELECT subject_kind, subject_id, project_id, threshold_pct, spent_usd::text, limit_usd::text
            FROM budget_events ORDER BY occurred_at, subject_kind, threshold_pct
            """, logger: logger)
        var result: [Event] = []
        for try await (kind, subject, project, pct, spent, limit) in rows.decode((String, UUID, UUID, Int32, String, String).self) {
            result.append(Event(subjectKind: kind, subjectID: subject, projectID: project, thresholdPct: Int(pct),
                                spentUSD: spent, limitUSD: limit))
        }
        return result
    }
}
