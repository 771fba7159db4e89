public import Foundation
import GRPCCore
public import LLMLabBilling
import LLMLabCore
public import LLMLabSecurity
public import LLMLabStore
public import Logging
import PostgresNIO

/// Pulls one connection's billed lines for a period and stores them: the one sync path
/// shared by the SyncConnection RPC and the scheduler. The provider call happens outside
/// any transaction; storing the lines, the run log, the connection's status and the audit
/// row then happen in one tenant transaction.
public struct BillingSync: Sendable {
    /// What a sync stored.
    public struct Outcome: Sendable, Hashable {
        public var runID: UUID
        public var period: BillingPeriod
        public var lines: Int
        public var totalUSD: String
    }

    let database: Database
    let keyVault: KeyVault
    let http: BillingHTTPClient
    let logger: Logger
    let auditor: Auditor
    /// Whether a connection's `*_url` settings are used. When off, a connection that names
    /// one (created while they were allowed) fails its sync with a message saying how to
    /// allow it, instead of calling an address a tenant admin chose.
    let allowCustomEndpoints: Bool

    public init(database: Database, keyVault: KeyVault, http: BillingHTTPClient, logger: Logger, allowCustomEndpoints: Bool = false) {
        self.allowCustomEndpoints = allowCustomEndpoints
        self.database = database
        self.keyVault = keyVault
        self.http = http
        self.logger = logger
        self.auditor = Auditor(logger: logger)
    }

    /// Binds a sealed billing credential to its tenant and connection row.
    public static func associatedData(tenantID: UUID, connectionID: UUID) -> String {
        "tenant:\(tenantID.uuidString.lowercased())/billing_connection:\(connectionID.uuidString.lowercased())"
    }

    /// How long after `now` the connection is due again: its schedule after a success;
    /// after failures, 5 minutes doubling per consecutive failure, capped at the schedule.
    public static func nextSync(after now: Date, schedule: String, consecutiveFailures: Int) -> Date {
        let interval: TimeInterval = schedule == "hourly" ? 3_600 : 86_400
        guard consecutiveFailures > 0 else { return now.addingTimeInterval(interval) }
        let backoff = 300 * pow(2, Double(min(consecutiveFailures - 1, 10)))
        return now.addingTimeInterval(min(backoff, interval))
    }

    /// Syncs `connection` for `period`. On a provider failure the run and the connection's
    /// status record it, and the ``BillingError`` is rethrown (its message is safe to show).
    public func run(tenant: TenantRecord, connection: BillingConnectionRecord, period: BillingPeriod, trigger: String,
                    actor: String? = nil, now: Date = Date()) async throws -> Outcome {
        let started = now
        let runID = UUID()
        let source = BillingRepository.source(connectionID: connection.id)
        let logger = self.logger
        let auditor = self.auditor
        let lines: [BilledLine]
        do {
            guard let kind = BillingConnectionKind(rawValue: connection.kind) else {
                throw BillingError(.configuration, "unknown connection kind \(connection.kind)")
            }
            if !allowCustomEndpoints, let key = connection.settings.keys.sorted().first(where: { $0.hasSuffix("_url") }) {
                throw BillingError(.configuration, BillingValidation.customEndpointRefusal(key))
            }
            let dataKey = try keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
            let credential = try dataKey.open([UInt8](connection.sealedCredential),
                                              associatedData: Self.associatedData(tenantID: tenant.id, connectionID: connection.id))
            let connector = try BillingConnectors.make(kind: kind, settings: connection.settings, credential: credential, http: http)
            lines = try await connector.fetch(period)
        } catch let error as BillingError {
            let failures = connection.consecutiveFailures + 1
            let next = Self.nextSync(after: Date(), schedule: connection.schedule, consecutiveFailures: failures)
            try await database.withTenantTransaction(tenant.scope) { db in
                let billing = BillingRepository(db, logger: logger)
                try await billing.insertRun(BillingSyncRunRecord(
                    id: runID, connectionID: connection.id, source: source, trigger: trigger, firstDay: period.first.description,
                    lastDay: period.last.description, startedAt: started, status: "failed", lines: 0, totalUSD: "0",
                    error: error.message))
                try await billing.recordSync(id: connection.id, at: Date(), succeeded: false, error: error.message, nextSyncAt: next)
                try await auditor.record(on: db, log: .tenant(tenant.scope), target: "billing_connection:\(connection.id.uuidString.lowercased())",
                                         outcome: .failed,
                                         detail: ["event": "synced", "trigger": trigger, "from": period.first.description,
                                                  "to": period.last.description, "error": error.code.rawValue],
                                         actor: actor)
            }
            throw error
        }
        let total = DecimalText.sum(lines.map(\.amountUSD))
        let records = lines.map {
            BilledCostRecord(provider: $0.provider, day: $0.day.description, model: $0.model, lineItem: $0.lineItem,
                             amountUSD: $0.amountUSD, currency: $0.currency)
        }
        let next = Self.nextSync(after: Date(), schedule: connection.schedule, consecutiveFailures: 0)
        try await database.withTenantTransaction(tenant.scope) { db in
            let billing = BillingRepository(db, logger: logger)
            try await billing.replaceRange(source: source, firstDay: period.first.description, lastDay: period.last.description,
                                           lines: records)
            try await billing.insertRun(BillingSyncRunRecord(
                id: runID, connectionID: connection.id, source: source, trigger: trigger, firstDay: period.first.description,
                lastDay: period.last.description, startedAt: started, status: "succeeded", lines: records.count, totalUSD: total,
                error: ""))
            try await billing.recordSync(id: connection.id, at: Date(), succeeded: true, error: "", nextSyncAt: next)
            try await auditor.record(on: db, log: .tenant(tenant.scope), target: "billing_connection:\(connection.id.uuidString.lowercased())",
                                     detail: ["event": "synced", "trigger": trigger, "from": period.first.description,
                                              "to": period.last.description, "lines": String(records.count), "total_usd": total],
                                     actor: actor)
        }
        return Outcome(runID: runID, period: period, lines: records.count, totalUSD: total)
    }
}
