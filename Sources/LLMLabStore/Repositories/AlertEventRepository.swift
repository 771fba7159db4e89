public import Foundation
public import Logging
public import PostgresNIO

/// One fired alert (`alert_events`): unique per kind, subject, period and threshold, which
/// is what makes every alert fire once per threshold per period.
public struct AlertEventRecord: Sendable, Hashable {
    public var id: UUID
    /// `budget_threshold`, `budget_forecast` or `cost_spike`.
    public var kind: String
    /// `project` or `api_key`.
    public var subjectKind: String
    public var subjectID: UUID
    public var projectID: UUID?
    public var subjectName: String
    /// `YYYY-MM-DD` (month start) for budget alerts, `YYYY-MM-DDTHH:00:00Z` for spikes.
    public var period: String
    /// Percent of the budget (threshold), 100 (forecast) or 0 (spike).
    public var threshold: Int
    /// Exact decimal text: spend, projected month-end spend or the hour's spend.
    public var observedUSD: String
    /// The budget, or factor × baseline for a spike.
    public var limitUSD: String?
    /// Spikes: the mean hourly spend the hour was compared with.
    public var baselineUSD: String?
    /// `evaluator`, or `proxy` when the crossing came from the proxy's budget_events.
    public var source: String
    public var firedAt: Date

    public init(id: UUID = UUID(), kind: String, subjectKind: String, subjectID: UUID, projectID: UUID?, subjectName: String,
                period: String, threshold: Int, observedUSD: String, limitUSD: String?, baselineUSD: String? = nil,
                source: String = "evaluator", firedAt: Date = Date()) {
        self.id = id
        self.kind = kind
        self.subjectKind = subjectKind
        self.subjectID = subjectID
        self.projectID = projectID
        self.subjectName = subjectName
        self.period = period
        self.threshold = threshold
        self.observedUSD = observedUSD
        self.limitUSD = limitUSD
        self.baselineUSD = baselineUSD
        self.source = source
        self.firedAt = firedAt
    }
}

/// How the deliveries of one alert stand.
public struct AlertDeliverySummary: Sendable, Hashable {
    public var pending = 0
    public var delivered = 0
    public var failed = 0

    public init(pending: Int = 0, delivered: Int = 0, failed: Int = 0) {
        self.pending = pending
        self.delivered = delivered
        self.failed = failed
    }
}

/// `alert_events` in a tenant schema (use inside a tenant transaction).
public struct AlertEventRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Records the alert unless the same (kind, subject, period, threshold) fired before;
    /// true when this call inserted it (and so must announce it).
    public func insertOnce(_ event: AlertEventRecord) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO alert_events (id, kind, subject_kind, subject_id, project_id, subject_name, period, threshold,
                                      observed_usd, limit_usd, baseline_usd, source, fired_at)
            VALUES (\(event.id), \(event.kind), \(event.subjectKind), \(event.subjectID), \(event.projectID),
                    \(event.subjectName), \(event.period), \(Int32(event.threshold)), \(event.observedUSD)::numeric,
                    \(event.limitUSD)::numeric, \(event.baselineUSD)::numeric, \(event.source), \(event.firedAt))
            ON CONFLICT (kind, subject_kind, subject_id, period, threshold) DO NOTHING
            RETURNING 1
            """, logger: logger)
        var inserted = false
        for try await _ in rows { inserted = true }
        return inserted
    }

    /// The (kind, subject id, threshold) of alerts already fired in the given periods, so
    /// the evaluator skips them without an insert attempt.
    public func fired(periods: [String]) async throws -> Set<String> {
        let rows = try await connection.query("""
            SELECT kind, subject_id, threshold, period FROM alert_events WHERE period = ANY(\(periods))
            """, logger: logger)
        var result = Set<String>()
        for try await (kind, subject, threshold, period) in rows.decode((String, UUID, Int32, String).self) {
            result.insert(Self.key(kind: kind, subjectID: subject, period: period, threshold: Int(threshold)))
        }
        return result
    }

    /// The key ``fired(periods:)`` returns for an alert.
    public static func key(kind: String, subjectID: UUID, period: String, threshold: Int) -> String {
        "\(kind)|\(subjectID.uuidString.lowercased())|\(period)|\(threshold)"
    }

    static let columns = """
        e.id, e.kind, e.subject_kind, e.subject_id, e.project_id, e.subject_name, e.period, e.threshold,
        e.observed_usd::text, e.limit_usd::text, e.baseline_usd::text, e.source, e.fired_at
        """

    /// The newest alerts first (optionally of one subject), each with its deliveries
    /// counted by status.
    public func list(limit: Int, subjectID: UUID? = nil) async throws
        -> [(event: AlertEventRecord, deliveries: AlertDeliverySummary)]
    {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns),
                   count(d.id) FILTER (WHERE d.status = 'pending'), count(d.id) FILTER (WHERE d.status = 'delivered'),
                   count(d.id) FILTER (WHERE d.status = 'failed')
            FROM alert_events e LEFT JOIN alert_deliveries d ON d.alert_event_id = e.id
            WHERE (\(subjectID)::uuid IS NULL OR e.subject_id = \(subjectID))
            GROUP BY e.id
            ORDER BY e.fired_at DESC, e.id DESC LIMIT \(Int64(limit))
            """, logger: logger)
        var result: [(event: AlertEventRecord, deliveries: AlertDeliverySummary)] = []
        for try await row in rows {
            let c = try row.decode(
                (UUID, String, String, UUID, UUID?, String, String, Int32, String, String?, String?, String, Date, Int64, Int64, Int64).self)
            let event = AlertEventRecord(
                id: c.0, kind: c.1, subjectKind: c.2, subjectID: c.3, projectID: c.4, subjectName: c.5, period: c.6,
                threshold: Int(c.7), observedUSD: ProjectRepository.trimNumeric(c.8), limitUSD: c.9.map(ProjectRepository.trimNumeric),
                baselineUSD: c.10.map(ProjectRepository.trimNumeric), source: c.11, firedAt: c.12)
            result.append((event, AlertDeliverySummary(pending: Int(c.13), delivered: Int(c.14), failed: Int(c.15))))
        }
        return result
    }
}
