public import Foundation
public import Logging
public import PostgresNIO

/// An alert channel as stored: the signing secret sealed with the tenant's data key.
public struct AlertChannelRecord: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var kind: String
    public var url: String
    public var sealedSecret: Data
    public var lastFour: String
    public var disabled: Bool
    public var createdAt: Date
    /// Email channels: the validated addresses (url is then ""); empty for the others.
    public var recipients: [String]

    public init(id: UUID, name: String, kind: String = "webhook", url: String, sealedSecret: Data, lastFour: String,
                disabled: Bool = false, createdAt: Date = Date(), recipients: [String] = []) {
        self.id = id
        self.name = name
        self.kind = kind
        self.url = url
        self.sealedSecret = sealedSecret
        self.lastFour = lastFour
        self.disabled = disabled
        self.createdAt = createdAt
        self.recipients = recipients
    }
}

/// One row of the delivery log (`alert_deliveries`).
public struct AlertDeliveryRecord: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case pending, delivered, failed
    }

    public var id: UUID
    public var channelID: UUID
    public var eventKind: String
    /// The JSON body, as PostgreSQL renders the stored jsonb: exactly what is POSTed.
    public var payload: String
    public var attempts: Int
    public var status: Status
    public var lastStatusCode: Int?
    public var lastError: String
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var deliveredAt: Date?
}

/// A due delivery with what sending it needs from its channel.
public struct DueAlertDelivery: Sendable, Hashable {
    public var delivery: AlertDeliveryRecord
    public var url: String
    public var sealedSecret: Data
    /// The channel's kind: `webhook`, `slack` or `email`.
    public var kind: String = "webhook"
    /// Email channels: where the message goes.
    public var recipients: [String] = []
}

/// `alert_channels`, `alert_deliveries` and the dispatch mark on `budget_events` in a
/// tenant schema (use inside a tenant transaction).
public struct AlertRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    // MARK: Channels

    static let channelColumns = "id, name, kind, url, sealed_secret, last_four, disabled, created_at, recipients"

    public func insertChannel(_ channel: AlertChannelRecord) async throws -> AlertChannelRecord {
        let rows = try await connection.query("""
            INSERT INTO alert_channels (id, name, kind, url, sealed_secret, last_four, disabled, recipients)
            VALUES (\(channel.id), \(channel.name), \(channel.kind), \(channel.url), \(channel.sealedSecret),
                    \(channel.lastFour), \(channel.disabled), \(channel.recipients))
            RETURNING \(unescaped: Self.channelColumns)
            """, logger: logger)
        guard let inserted = try await Self.decodeChannels(rows).first else {
            throw StoreError(code: .internal, message: "alert channel insert returned no row")
        }
        return inserted
    }

    public func listChannels() async throws -> [AlertChannelRecord] {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.channelColumns) FROM alert_channels ORDER BY name", logger: logger)
        return try await Self.decodeChannels(rows)
    }

    public func enabledChannels() async throws -> [AlertChannelRecord] {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.channelColumns) FROM alert_channels WHERE NOT disabled ORDER BY name", logger: logger)
        return try await Self.decodeChannels(rows)
    }

    public func findChannel(id: UUID) async throws -> AlertChannelRecord? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.channelColumns) FROM alert_channels WHERE id = \(id)", logger: logger)
        return try await Self.decodeChannels(rows).first
    }

    /// Disables or enables a channel; nil when there is no such channel. A disabled channel
    /// gets no new deliveries (those already queued are still attempted).
    public func setDisabled(id: UUID, _ disabled: Bool) async throws -> AlertChannelRecord? {
        let rows = try await connection.query(
            "UPDATE alert_channels SET disabled = \(disabled) WHERE id = \(id) RETURNING \(unescaped: Self.channelColumns)",
            logger: logger)
        return try await Self.decodeChannels(rows).first
    }

    /// Replaces the sealed signing secret; nil when there is no such channel.
    public func replaceSecret(id: UUID, sealedSecret: Data, lastFour: String) async throws -> AlertChannelRecord? {
        let rows = try await connection.query("""
            UPDATE alert_channels SET sealed_secret = \(sealedSecret), last_four = \(lastFour) WHERE id = \(id)
            RETURNING \(unescaped: Self.channelColumns)
            """, logger: logger)
        return try await Self.decodeChannels(rows).first
    }

    /// Deletes the channel and its delivery log; false when there was no such channel.
    @discardableResult
    public func deleteChannel(id: UUID) async throws -> Bool {
        let rows = try await connection.query("DELETE FROM alert_channels WHERE id = \(id) RETURNING 1", logger: logger)
        var deleted = false
        for try await _ in rows { deleted = true }
        return deleted
    }

    static func decodeChannels(_ rows: PostgresRowSequence) async throws -> [AlertChannelRecord] {
        var result: [AlertChannelRecord] = []
        for try await (id, name, kind, url, sealed, lastFour, disabled, created, recipients) in rows.decode(
            (UUID, String, String, String, Data, String, Bool, Date, [String]).self)
        {
            result.append(AlertChannelRecord(id: id, name: name, kind: kind, url: url, sealedSecret: sealed, lastFour: lastFour,
                                             disabled: disabled, createdAt: created, recipients: recipients))
        }
        return result
    }

    // MARK: Deliveries

    static let deliveryColumns = """
        d.id, d.channel_id, d.event_kind, d.payload::text, d.attempts, d.status, d.last_status_code, d.last_error,
        d.next_attempt_at, d.created_at, d.delivered_at
        """

    /// Enqueues a delivery of `payload` (a JSON object) to a channel, due now; `alertEventID`
    /// links it to the alert it announces (nil for test deliveries).
    public func enqueue(id: UUID = UUID(), channelID: UUID, eventKind: String, payload: String,
                        alertEventID: UUID? = nil) async throws -> AlertDeliveryRecord {
        let rows = try await connection.query("""
            WITH d AS (
                INSERT INTO alert_deliveries (id, channel_id, event_kind, payload, alert_event_id)
                VALUES (\(id), \(channelID), \(eventKind), \(payload)::jsonb, \(alertEventID))
                RETURNING *)
            SELECT \(unescaped: Self.deliveryColumns) FROM d
            """, logger: logger)
        guard let inserted = try await Self.decodeDeliveries(rows).first else {
            throw StoreError(code: .internal, message: "alert delivery insert returned no row")
        }
        return inserted
    }

    /// The newest deliveries first, optionally of one channel.
    public func listDeliveries(channelID: UUID?, limit: Int) async throws -> [AlertDeliveryRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.deliveryColumns) FROM alert_deliveries d
            WHERE (\(channelID)::uuid IS NULL OR d.channel_id = \(channelID))
            ORDER BY d.created_at DESC, d.id LIMIT \(Int64(limit))
            """, logger: logger)
        return try await Self.decodeDeliveries(rows)
    }

    public func findDelivery(id: UUID) async throws -> AlertDeliveryRecord? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.deliveryColumns) FROM alert_deliveries d WHERE d.id = \(id)", logger: logger)
        return try await Self.decodeDeliveries(rows).first
    }

    /// Claims up to `limit` pending deliveries that are due at `now`: each one's
    /// next_attempt_at moves to `leaseUntil`, so another poller (or this one, after a crash)
    /// does not send it again before the attempt has been recorded or the lease ran out.
    public func claimDue(now: Date, leaseUntil: Date, limit: Int) async throws -> [DueAlertDelivery] {
        let rows = try await connection.query("""
            WITH due AS (
                SELECT id FROM alert_deliveries
                WHERE status = 'pending' AND next_attempt_at <= \(now)
                ORDER BY next_attempt_at LIMIT \(Int64(limit))
                FOR UPDATE SKIP LOCKED),
            d AS (
                UPDATE alert_deliveries a SET next_attempt_at = \(leaseUntil)
                FROM due WHERE a.id = due.id
                RETURNING a.*)
            SELECT \(unescaped: Self.deliveryColumns), c.url, c.sealed_secret, c.kind, c.recipients
            FROM d JOIN alert_channels c ON c.id = d.channel_id
            """, logger: logger)
        var result: [DueAlertDelivery] = []
        for try await row in rows {
            let columns = try row.decode(
                (UUID, UUID, String, String, Int32, String, Int32?, String, Date, Date, Date?, String, Data, String, [String]).self)
            result.append(DueAlertDelivery(delivery: Self.delivery(
                (columns.0, columns.1, columns.2, columns.3, columns.4, columns.5, columns.6, columns.7, columns.8,
                 columns.9, columns.10)), url: columns.11, sealedSecret: columns.12, kind: columns.13,
                recipients: columns.14))
        }
        return result
    }

    /// Records one attempt: its outcome, and when the next one is due while still pending.
    public func recordAttempt(id: UUID, status: AlertDeliveryRecord.Status, statusCode: Int?, error: String,
                              nextAttemptAt: Date, at now: Date) async throws -> AlertDeliveryRecord? {
        let code = statusCode.map { Int32($0) }
        let deliveredAt: Date? = status == .delivered ? now : nil
        let rows = try await connection.query("""
            WITH d AS (
                UPDATE alert_deliveries SET attempts = attempts + 1, status = \(status.rawValue),
                    last_status_code = \(code), last_error = \(error), next_attempt_at = \(nextAttemptAt),
                    delivered_at = \(deliveredAt)
                WHERE id = \(id)
                RETURNING *)
            SELECT \(unescaped: Self.deliveryColumns) FROM d
            """, logger: logger)
        return try await Self.decodeDeliveries(rows).first
    }

    static func delivery(_ c: (UUID, UUID, String, String, Int32, String, Int32?, String, Date, Date, Date?)) -> AlertDeliveryRecord {
        AlertDeliveryRecord(
            id: c.0, channelID: c.1, eventKind: c.2, payload: c.3, attempts: Int(c.4),
            status: AlertDeliveryRecord.Status(rawValue: c.5) ?? .failed, lastStatusCode: c.6.map(Int.init),
            lastError: c.7, nextAttemptAt: c.8, createdAt: c.9, deliveredAt: c.10)
    }

    static func decodeDeliveries(_ rows: PostgresRowSequence) async throws -> [AlertDeliveryRecord] {
        var result: [AlertDeliveryRecord] = []
        for try await columns in rows.decode((UUID, UUID, String, String, Int32, String, Int32?, String, Date, Date, Date?).self) {
            result.append(Self.delivery(columns))
        }
        return result
    }

    // MARK: Budget events

    /// A budget threshold crossing not yet turned into deliveries.
    public struct PendingBudgetEvent: Sendable, Hashable {
        public var subjectKind: String
        public var subjectID: UUID
        public var projectID: UUID
        /// "YYYY-MM-DD", the first day of the budget month.
        public var period: String
        public var thresholdPct: Int
        public var spentUSD: String
        public var limitUSD: String
        public var occurredAt: Date
    }

    /// Up to `limit` undispatched budget events, oldest first, locked until the
    /// transaction ends (a concurrent evaluator skips them).
    public func claimUndispatchedBudgetEvents(limit: Int) async throws -> [PendingBudgetEvent] {
        let rows = try await connection.query("""
            SELECT subject_kind, subject_id, project_id, period::text, threshold_pct, spent_usd::text, limit_usd::text,
                   occurred_at
            FROM budget_events WHERE dispatched_at IS NULL
            ORDER BY occurred_at LIMIT \(Int64(limit))
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        var result: [PendingBudgetEvent] = []
        for try await (kind, subject, project, period, pct, spent, limit, occurred) in rows.decode(
            (String, UUID, UUID, String, Int32, String, String, Date).self)
        {
            result.append(PendingBudgetEvent(subjectKind: kind, subjectID: subject, projectID: project, period: period,
                                             thresholdPct: Int(pct), spentUSD: spent, limitUSD: limit, occurredAt: occurred))
        }
        return result
    }

    public func markDispatched(_ event: PendingBudgetEvent, at now: Date) async throws {
        try await connection.query("""
            UPDATE budget_events SET dispatched_at = \(now)
            WHERE subject_kind = \(event.subjectKind) AND subject_id = \(event.subjectID)
              AND period = \(event.period)::date AND threshold_pct = \(Int32(event.thresholdPct))
            """, logger: logger)
    }
}
