public import Foundation
public import Logging
public import PostgresNIO

/// What to alert on for one project or API key (`alert_rules`). Amounts are exact decimal
/// text (NUMERIC in the database), never floating point.
public struct AlertRuleRecord: Sendable, Hashable {
    public var id: UUID
    /// `project` or `api_key`.
    public var subjectKind: String
    public var subjectID: UUID
    /// Percentages of the monthly budget, ascending; empty turns threshold alerts off.
    public var thresholds: [Int]
    /// Alert once a month when the projected month-end spend exceeds the budget.
    public var forecast: Bool
    /// Cost-spike rule: both set or both nil.
    public var spikeFactor: String?
    public var spikeMinUSD: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, subjectKind: String, subjectID: UUID, thresholds: [Int], forecast: Bool, spikeFactor: String?,
                spikeMinUSD: String?, createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id
        self.subjectKind = subjectKind
        self.subjectID = subjectID
        self.thresholds = thresholds
        self.forecast = forecast
        self.spikeFactor = spikeFactor
        self.spikeMinUSD = spikeMinUSD
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `alert_rules` in a tenant schema (use inside a tenant transaction).
public struct AlertRuleRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static let columns = """
        id, subject_kind, subject_id, thresholds, forecast, spike_factor::text, spike_min_usd::text, created_at, updated_at
        """

    /// Creates the subject's rule or replaces it (one rule per subject; the id of an
    /// existing rule is kept).
    public func upsert(_ rule: AlertRuleRecord) async throws -> AlertRuleRecord {
        let thresholds = rule.thresholds.map { Int32($0) }
        let rows = try await connection.query("""
            INSERT INTO alert_rules (id, subject_kind, subject_id, thresholds, forecast, spike_factor, spike_min_usd)
            VALUES (\(rule.id), \(rule.subjectKind), \(rule.subjectID), \(thresholds), \(rule.forecast),
                    \(rule.spikeFactor)::numeric, \(rule.spikeMinUSD)::numeric)
            ON CONFLICT (subject_kind, subject_id) DO UPDATE SET
                thresholds = excluded.thresholds, forecast = excluded.forecast, spike_factor = excluded.spike_factor,
                spike_min_usd = excluded.spike_min_usd, updated_at = now()
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        guard let stored = try await Self.decode(rows).first else {
            throw StoreError(code: .internal, message: "alert rule upsert returned no row")
        }
        return stored
    }

    public func list() async throws -> [AlertRuleRecord] {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM alert_rules ORDER BY subject_kind, created_at, id", logger: logger)
        return try await Self.decode(rows)
    }

    public func find(id: UUID) async throws -> AlertRuleRecord? {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM alert_rules WHERE id = \(id)", logger: logger)
        return try await Self.decode(rows).first
    }

    /// False when there was no such rule.
    @discardableResult
    public func delete(id: UUID) async throws -> Bool {
        let rows = try await connection.query("DELETE FROM alert_rules WHERE id = \(id) RETURNING 1", logger: logger)
        var deleted = false
        for try await _ in rows { deleted = true }
        return deleted
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [AlertRuleRecord] {
        var result: [AlertRuleRecord] = []
        for try await (id, kind, subject, thresholds, forecast, factor, minimum, created, updated) in rows.decode(
            (UUID, String, UUID, [Int32], Bool, String?, String?, Date, Date).self)
        {
            result.append(AlertRuleRecord(
                id: id, subjectKind: kind, subjectID: subject, thresholds: thresholds.map(Int.init).sorted(), forecast: forecast,
                spikeFactor: factor.map(ProjectRepository.trimNumeric), spikeMinUSD: minimum.map(ProjectRepository.trimNumeric),
                createdAt: created, updatedAt: updated))
        }
        return result
    }
}
