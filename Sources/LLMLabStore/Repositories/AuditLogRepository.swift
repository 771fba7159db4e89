public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// Which chain an audit row belongs to: the operator's control log, or one tenant's log.
/// Tenant tables are schema-qualified so a row can be appended from a tenant transaction
/// (the tenant role may INSERT) or from a control transaction that changed control rows
/// about the tenant (users, API keys), in the same transaction as that change.
public enum AuditLog: Sendable, Hashable {
    case control
    case tenant(TenantScope)

    /// Built only from constants and a validated tenant scope: safe to splice into SQL.
    var table: String {
        switch self {
        case .control: "control.audit_events"
        case .tenant(let scope): "\"\(scope.schemaName)\".audit_events"
        }
    }

    /// Serialises appends per chain.
    var lockKey: String {
        switch self {
        case .control: "llmlab.audit.control"
        case .tenant(let scope): "llmlab.audit.\(scope.schemaName)"
        }
    }
}

/// Filters for reading an audit log, newest first.
public struct AuditQuery: Sendable {
    public var actor: String?
    public var action: String?
    public var since: Date?
    public var until: Date?
    /// Only rows with a smaller sequence (the cursor).
    public var beforeSequence: Int64?
    public var limit: Int

    public init(actor: String? = nil, action: String? = nil, since: Date? = nil, until: Date? = nil,
                beforeSequence: Int64? = nil, limit: Int = 50) {
        self.actor = actor
        self.action = action
        self.since = since
        self.until = until
        self.beforeSequence = beforeSequence
        self.limit = limit
    }
}

/// Appends to and reads an append-only, hash-chained audit table. Appends are
/// serialised per chain with a transaction-scoped advisory lock (the tenant role has no
/// UPDATE right, so `FOR UPDATE` is not available to it), and happen in the caller's
/// transaction, so an audit row exists exactly when its mutation committed.
public struct AuditLogRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let log: AuditLog

    public init(_ connection: PostgresConnection, log: AuditLog, logger: Logger) {
        self.connection = connection
        self.log = log
        self.logger = logger
    }

    /// Appends `entry` (its sequence, previous hash and hash are filled here) after
    /// sealing it with `seal`, which computes the chain hash.
    @discardableResult
    public func append(_ entry: AuditRecord, seal: @Sendable (AuditRecord) -> AuditRecord) async throws -> AuditRecord {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(\(log.lockKey), 0))", logger: logger)
        let last = try await connection.query(
            "SELECT seq, hash FROM \(unescaped: log.table) ORDER BY seq DESC LIMIT 1", logger: logger)
        var sequence: Int64 = 1
        var previous = AuditRecord.genesisHash
        for try await (seq, hash) in last.decode((Int64, String).self) {
            sequence = seq + 1
            previous = hash
        }
        var record = entry
        record.sequence = sequence
        record.previousHash = previous
        record.occurredAt = Date(timeIntervalSince1970: Double(microsSinceEpoch(entry.occurredAt)) / 1_000_000)
        record = seal(record)
        let micros = microsSinceEpoch(record.occurredAt)
        try await connection.query("""
            INSERT INTO \(unescaped: log.table)
                (seq, occurred_at, actor, action, target, request_id, outcome, detail, prev_hash, hash)
            VALUES (\(record.sequence), 'epoch'::timestamptz + \(micros) * interval '1 microsecond',
                    \(record.actor), \(record.action), \(record.target), \(record.requestID),
                    \(record.outcome.rawValue), \(record.detail), \(record.previousHash), \(record.hash))
            """, logger: logger)
        return record
    }

    public func list(_ query: AuditQuery) async throws -> [AuditRecord] {
        let actor = query.actor ?? ""
        let action = query.action ?? ""
        let since = query.since.map(microsSinceEpoch) ?? Int64.min / 2
        let until = query.until.map(microsSinceEpoch) ?? Int64.max / 2
        let before = query.beforeSequence ?? Int64.max
        let rows = try await connection.query("""
            SELECT seq, (extract(epoch FROM occurred_at) * 1000000)::int8, actor, action, target, request_id,
                   outcome, detail, prev_hash, hash
            FROM \(unescaped: log.table)
            WHERE (\(actor) = '' OR actor = \(actor))
              AND (\(action) = '' OR action = \(action))
              AND (extract(epoch FROM occurred_at) * 1000000)::int8 >= \(since)
              AND (extract(epoch FROM occurred_at) * 1000000)::int8 < \(until)
              AND seq < \(before)
            ORDER BY seq DESC LIMIT \(query.limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Rows in chain order after `sequence`, for verification in bounded chunks.
    public func rows(afterSequence sequence: Int64, limit: Int) async throws -> [AuditRecord] {
        let rows = try await connection.query("""
            SELECT seq, (extract(epoch FROM occurred_at) * 1000000)::int8, actor, action, target, request_id,
                   outcome, detail, prev_hash, hash
            FROM \(unescaped: log.table) WHERE seq > \(sequence) ORDER BY seq LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [AuditRecord] {
        var result: [AuditRecord] = []
        for try await (seq, micros, actor, action, target, requestID, outcome, detail, prev, hash) in rows.decode(
            (Int64, Int64, String, String, String, String, String, String, String, String).self)
        {
            result.append(AuditRecord(
                sequence: seq, occurredAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000),
                actor: actor, action: action, target: target, requestID: requestID,
                outcome: AuditOutcome(rawValue: outcome) ?? .failed, detail: detail,
                previousHash: prev, hash: hash))
        }
        return result
    }
}
