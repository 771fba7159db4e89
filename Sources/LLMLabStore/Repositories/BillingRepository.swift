public import Foundation
public import Logging
public import PostgresNIO

/// A billing connection as stored: the admin credential sealed with the tenant's data key.
public struct BillingConnectionRecord: Sendable, Hashable {
    public var id: UUID
    /// `openai`, `anthropic` or `azure`.
    public var kind: String
    public var name: String
    public var sealedCredential: Data
    public var credentialLastFour: String
    /// Non-secret settings (organization, scope, tenant_id, client_id, base_url, …).
    public var settings: [String: String]
    /// `daily` or `hourly`.
    public var schedule: String
    public var disabled: Bool
    public var lastSyncAt: Date?
    /// `never`, `succeeded` or `failed`.
    public var lastSyncStatus: String
    public var lastSyncError: String
    public var consecutiveFailures: Int
    public var nextSyncAt: Date
    public var createdAt: Date

    public init(id: UUID, kind: String, name: String, sealedCredential: Data, credentialLastFour: String,
                settings: [String: String], schedule: String = "daily", disabled: Bool = false, lastSyncAt: Date? = nil,
                lastSyncStatus: String = "never", lastSyncError: String = "", consecutiveFailures: Int = 0,
                nextSyncAt: Date = Date(), createdAt: Date = Date()) {
        self.id = id
        self.kind = kind
        self.name = name
        self.sealedCredential = sealedCredential
        self.credentialLastFour = credentialLastFour
        self.settings = settings
        self.schedule = schedule
        self.disabled = disabled
        self.lastSyncAt = lastSyncAt
        self.lastSyncStatus = lastSyncStatus
        self.lastSyncError = lastSyncError
        self.consecutiveFailures = consecutiveFailures
        self.nextSyncAt = nextSyncAt
        self.createdAt = createdAt
    }
}

/// One billed line as stored (`billed_costs`). Days are "YYYY-MM-DD" (UTC), amounts exact
/// decimal text; the store does not know the billing module's types.
public struct BilledCostRecord: Sendable, Hashable {
    public var provider: String
    public var day: String
    public var model: String
    public var lineItem: String
    public var amountUSD: String
    public var currency: String

    public init(provider: String, day: String, model: String, lineItem: String, amountUSD: String, currency: String = "USD") {
        self.provider = provider
        self.day = day
        self.model = model
        self.lineItem = lineItem
        self.amountUSD = amountUSD
        self.currency = currency
    }
}

/// Tracked cost of one provider, UTC day and model, summed from the hourly rollup.
public struct TrackedCostRecord: Sendable, Hashable {
    public var provider: String
    public var day: String
    public var model: String
    public var amountUSD: String
}

/// One sync or import, for the log.
public struct BillingSyncRunRecord: Sendable, Hashable {
    public var id: UUID
    public var connectionID: UUID?
    public var source: String
    /// `manual`, `scheduled` or `import`.
    public var trigger: String
    public var firstDay: String
    public var lastDay: String
    public var startedAt: Date
    /// `succeeded` or `failed`.
    public var status: String
    public var lines: Int
    public var totalUSD: String
    public var error: String

    public init(id: UUID = UUID(), connectionID: UUID?, source: String, trigger: String, firstDay: String, lastDay: String,
                startedAt: Date, status: String, lines: Int, totalUSD: String, error: String) {
        self.id = id
        self.connectionID = connectionID
        self.source = source
        self.trigger = trigger
        self.firstDay = firstDay
        self.lastDay = lastDay
        self.startedAt = startedAt
        self.status = status
        self.lines = lines
        self.totalUSD = totalUSD
        self.error = error
    }
}

/// `billing_connections`, `billed_costs` and `billing_sync_runs` in a tenant schema (use
/// inside a tenant transaction), plus the tracked side of a reconciliation, read from
/// `usage_rollup_hourly` (never from raw usage events).
public struct BillingRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// The `billed_costs.source` of a connection's lines.
    public static func source(connectionID: UUID) -> String { "connection:\(connectionID.uuidString.lowercased())" }

    // MARK: Connections

    static let connectionColumns = """
        id, kind, name, sealed_credential, credential_last_four, settings::text, schedule, disabled, last_sync_at,
        last_sync_status, last_sync_error, consecutive_failures, next_sync_at, created_at
        """

    public func insertConnection(_ record: BillingConnectionRecord) async throws -> BillingConnectionRecord {
        let settings = try Self.encode(record.settings)
        let rows = try await connection.query("""
            INSERT INTO billing_connections (id, kind, name, sealed_credential, credential_last_four, settings, schedule,
                                             disabled, next_sync_at)
            VALUES (\(record.id), \(record.kind), \(record.name), \(record.sealedCredential), \(record.credentialLastFour),
                    \(settings)::jsonb, \(record.schedule), \(record.disabled), \(record.nextSyncAt))
            RETURNING \(unescaped: Self.connectionColumns)
            """, logger: logger)
        guard let inserted = try await Self.decodeConnections(rows).first else {
            throw StoreError(code: .internal, message: "billing connection insert returned no row")
        }
        return inserted
    }

    public func listConnections() async throws -> [BillingConnectionRecord] {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.connectionColumns) FROM billing_connections ORDER BY name", logger: logger)
        return try await Self.decodeConnections(rows)
    }

    public func findConnection(id: UUID) async throws -> BillingConnectionRecord? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.connectionColumns) FROM billing_connections WHERE id = \(id)", logger: logger)
        return try await Self.decodeConnections(rows).first
    }

    /// Changes the given fields (nil keeps one) and makes the connection due at `now`, so a
    /// new credential, schedule or re-enabled connection is pulled at once. Returns the
    /// updated row, or nil when there is no such connection.
    public func updateConnection(id: UUID, sealedCredential: Data?, credentialLastFour: String?, schedule: String?,
                                 disabled: Bool?, settings: [String: String]?, now: Date) async throws -> BillingConnectionRecord? {
        let settingsJSON = try settings.map(Self.encode)
        let rows = try await connection.query("""
            UPDATE billing_connections SET
                sealed_credential = coalesce(\(sealedCredential), sealed_credential),
                credential_last_four = coalesce(\(credentialLastFour), credential_last_four),
                schedule = coalesce(\(schedule), schedule),
                disabled = coalesce(\(disabled), disabled),
                settings = coalesce(\(settingsJSON)::jsonb, settings),
                consecutive_failures = CASE WHEN \(sealedCredential)::bytea IS NULL THEN consecutive_failures ELSE 0 END,
                next_sync_at = \(now)
            WHERE id = \(id)
            RETURNING \(unescaped: Self.connectionColumns)
            """, logger: logger)
        return try await Self.decodeConnections(rows).first
    }

    /// Deletes the connection, its billed lines and its run log; false when there was none.
    @discardableResult
    public func deleteConnection(id: UUID) async throws -> Bool {
        try await connection.query("DELETE FROM billed_costs WHERE source = \(Self.source(connectionID: id))", logger: logger)
        let rows = try await connection.query("DELETE FROM billing_connections WHERE id = \(id) RETURNING 1", logger: logger)
        var deleted = false
        for try await _ in rows { deleted = true }
        return deleted
    }

    /// Claims up to `limit` enabled connections due at `now`: their next_sync_at moves to
    /// `leaseUntil`, so another server (or this one after a crash) does not pull them again
    /// before the outcome is recorded or the lease runs out.
    public func claimDue(now: Date, leaseUntil: Date, limit: Int) async throws -> [BillingConnectionRecord] {
        let rows = try await connection.query("""
            WITH due AS (
                SELECT id FROM billing_connections
                WHERE NOT disabled AND next_sync_at <= \(now)
                ORDER BY next_sync_at LIMIT \(Int64(limit))
                FOR UPDATE SKIP LOCKED)
            UPDATE billing_connections c SET next_sync_at = \(leaseUntil)
            FROM due WHERE c.id = due.id
            RETURNING c.id, c.kind, c.name, c.sealed_credential, c.credential_last_four, c.settings::text, c.schedule, c.disabled,
                      c.last_sync_at, c.last_sync_status, c.last_sync_error, c.consecutive_failures, c.next_sync_at, c.created_at
            """, logger: logger)
        return try await Self.decodeConnections(rows)
    }

    /// Records the outcome of a sync on the connection.
    public func recordSync(id: UUID, at now: Date, succeeded: Bool, error: String, nextSyncAt: Date) async throws {
        try await connection.query("""
            UPDATE billing_connections SET last_sync_at = \(now), last_sync_status = \(succeeded ? "succeeded" : "failed"),
                last_sync_error = \(error),
                consecutive_failures = CASE WHEN \(succeeded) THEN 0 ELSE consecutive_failures + 1 END,
                next_sync_at = \(nextSyncAt)
            WHERE id = \(id)
            """, logger: logger)
    }

    static func decodeConnections(_ rows: PostgresRowSequence) async throws -> [BillingConnectionRecord] {
        var result: [BillingConnectionRecord] = []
        var failure: (any Error)?
        // Read to the end even when a row does not decode (a half-read sequence wedges the connection).
        for try await c in rows.decode(
            (UUID, String, String, Data, String, String, String, Bool, Date?, String, String, Int32, Date, Date).self)
        {
            do {
                result.append(BillingConnectionRecord(
                    id: c.0, kind: c.1, name: c.2, sealedCredential: c.3, credentialLastFour: c.4, settings: try Self.decode(c.5),
                    schedule: c.6, disabled: c.7, lastSyncAt: c.8, lastSyncStatus: c.9, lastSyncError: c.10,
                    consecutiveFailures: Int(c.11), nextSyncAt: c.12, createdAt: c.13))
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return result
    }

    static func encode(_ settings: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    // MARK: Billed lines

    /// Replaces what `source` billed on `[firstDay, lastDay]` with `lines` (a sync of that
    /// range): re-running it leaves the same rows.
    public func replaceRange(source: String, firstDay: String, lastDay: String, lines: [BilledCostRecord]) async throws {
        try await connection.query("""
            DELETE FROM billed_costs WHERE source = \(source) AND day >= \(firstDay)::date AND day <= \(lastDay)::date
            """, logger: logger)
        try await insert(source: source, lines: lines)
    }

    /// Replaces what `source` billed on the provider days `lines` cover (an import: days
    /// the file does not mention keep their rows).
    public func replaceDays(source: String, lines: [BilledCostRecord]) async throws {
        let providers = lines.map(\.provider), days = lines.map(\.day)
        try await connection.query("""
            DELETE FROM billed_costs b USING (SELECT DISTINCT p, d::date AS d FROM unnest(\(providers)::text[], \(days)::text[]) AS x(p, d)) k
            WHERE b.source = \(source) AND b.provider = k.p AND b.day = k.d
            """, logger: logger)
        try await insert(source: source, lines: lines)
    }

    func insert(source: String, lines: [BilledCostRecord]) async throws {
        guard !lines.isEmpty else { return }
        // Chunks keep each statement's arrays bounded.
        var start = 0
        while start < lines.count {
            let chunk = lines[start ..< min(lines.count, start + 5_000)]
            start += chunk.count
            try await connection.query("""
                INSERT INTO billed_costs (source, provider, day, model, line_item, amount_usd, currency)
                SELECT \(source), p, d::date, m, l, a::numeric, c
                FROM unnest(\(chunk.map(\.provider))::text[], \(chunk.map(\.day))::text[], \(chunk.map(\.model))::text[],
                            \(chunk.map(\.lineItem))::text[], \(chunk.map(\.amountUSD))::text[], \(chunk.map(\.currency))::text[])
                     AS x(p, d, m, l, a, c)
                ON CONFLICT (source, provider, day, model, line_item) DO UPDATE
                    SET amount_usd = EXCLUDED.amount_usd, currency = EXCLUDED.currency, imported_at = now()
                """, logger: logger)
        }
    }

    /// Billed lines of every source on `[firstDay, lastDay]`, optionally of one provider.
    public func billed(firstDay: String, lastDay: String, provider: String?) async throws -> [BilledCostRecord] {
        let rows = try await connection.query("""
            SELECT provider, to_char(day, 'YYYY-MM-DD'), model, line_item, amount_usd::text, currency FROM billed_costs
            WHERE day >= \(firstDay)::date AND day <= \(lastDay)::date AND (\(provider)::text IS NULL OR provider = \(provider))
            ORDER BY provider, day, model, line_item
            """, logger: logger)
        var result: [BilledCostRecord] = []
        for try await (provider, day, model, item, amount, currency) in rows.decode((String, String, String, String, String, String).self) {
            result.append(BilledCostRecord(provider: provider, day: day, model: model, lineItem: item,
                                           amountUSD: UsageEventRepository.trimmed(amount), currency: currency))
        }
        return result
    }

    /// What LLMLab tracked per provider, UTC day and model on `[firstDay, lastDay]`, from the
    /// hourly rollup.
    public func tracked(firstDay: String, lastDay: String, provider: String?) async throws -> [TrackedCostRecord] {
        let rows = try await connection.query("""
            SELECT provider, to_char((hour AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, model, sum(cost_usd)::text
            FROM usage_rollup_hourly
            WHERE hour >= (\(firstDay)::date)::timestamp AT TIME ZONE 'UTC'
              AND hour < ((\(lastDay)::date + 1)::timestamp AT TIME ZONE 'UTC')
              AND (\(provider)::text IS NULL OR provider = \(provider))
            GROUP BY 1, 2, 3
            HAVING sum(cost_usd) <> 0
            ORDER BY 1, 2, 3
            """, logger: logger)
        var result: [TrackedCostRecord] = []
        for try await (provider, day, model, amount) in rows.decode((String, String, String, String).self) {
            result.append(TrackedCostRecord(provider: provider, day: day, model: model, amountUSD: UsageEventRepository.trimmed(amount)))
        }
        return result
    }

    // MARK: Runs

    public func insertRun(_ run: BillingSyncRunRecord) async throws {
        try await connection.query("""
            INSERT INTO billing_sync_runs (id, connection_id, source, trigger, first_day, last_day, started_at, status, lines,
                                           total_usd, error)
            VALUES (\(run.id), \(run.connectionID), \(run.source), \(run.trigger), \(run.firstDay)::date, \(run.lastDay)::date,
                    \(run.startedAt), \(run.status), \(Int32(clamping: run.lines)), \(run.totalUSD)::numeric, \(run.error))
            """, logger: logger)
    }

    /// The newest runs first, optionally of one connection.
    public func listRuns(connectionID: UUID?, limit: Int) async throws -> [BillingSyncRunRecord] {
        let rows = try await connection.query("""
            SELECT id, connection_id, source, trigger, to_char(first_day, 'YYYY-MM-DD'), to_char(last_day, 'YYYY-MM-DD'),
                   started_at, status, lines, total_usd::text, error
            FROM billing_sync_runs WHERE (\(connectionID)::uuid IS NULL OR connection_id = \(connectionID))
            ORDER BY started_at DESC, id LIMIT \(Int64(limit))
            """, logger: logger)
        var result: [BillingSyncRunRecord] = []
        for try await row in rows {
            let c = try row.decode((UUID, UUID?, String, String, String, String, Date, String, Int32, String, String).self)
            result.append(BillingSyncRunRecord(id: c.0, connectionID: c.1, source: c.2, trigger: c.3, firstDay: c.4, lastDay: c.5,
                                               startedAt: c.6, status: c.7, lines: Int(c.8),
                                               totalUSD: UsageEventRepository.trimmed(c.9), error: c.10))
        }
        return result
    }
}
