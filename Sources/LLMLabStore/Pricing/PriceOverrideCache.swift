public import Foundation
public import LLMLabCore
public import Logging
import Synchronization

/// Each tenant's price overrides, loaded from `price_overrides` at most once per
/// ``ttl`` (or after a configuration change, ``ChangeSignal``) so pricing a proxied
/// request or an ingested span rarely touches the database. A load that fails (or takes
/// longer than ``loadTimeout``) keeps the last known overrides (or none) and is retried
/// after ``retryAfterFailure``; the request is priced regardless.
public final class PriceOverrideCache: Sendable {
    private struct Entry {
        var overrides: [PriceOverride]
        var expires: ContinuousClock.Instant
        var generation: UInt64
    }

    let database: Database
    let logger: Logger
    let ttl: Duration
    let loadTimeout: Duration
    let retryAfterFailure: Duration
    private let entries = Mutex([UUID: Entry]())

    public init(database: Database, logger: Logger, ttl: Duration = .seconds(30), loadTimeout: Duration = .seconds(1),
         retryAfterFailure: Duration = .seconds(5)) {
        self.database = database
        self.logger = logger
        self.ttl = ttl
        self.loadTimeout = loadTimeout
        self.retryAfterFailure = retryAfterFailure
    }

    public func overrides(tenantID: UUID) async -> [PriceOverride] {
        let now = ContinuousClock.now
        let generation = database.changes.current
        let cached = entries.withLock { $0[tenantID] }
        if let cached, cached.expires > now, cached.generation == generation { return cached.overrides }
        do {
            let loaded = try await load(tenantID: tenantID)
            entries.withLock { $0[tenantID] = Entry(overrides: loaded, expires: .now + ttl, generation: generation) }
            return loaded
        } catch {
            let fallback = cached?.overrides ?? []
            logger.warning("could not load price overrides; pricing with the last known ones",
                           metadata: ["tenant_id": "\(tenantID)", "known": "\(fallback.count)", "error": "\(String(reflecting: error))"])
            entries.withLock { $0[tenantID] = Entry(overrides: fallback, expires: .now + retryAfterFailure, generation: generation) }
            return fallback
        }
    }

    /// Forgets a tenant's overrides (tests; after a change made in this process).
    public func invalidate(tenantID: UUID) {
        _ = entries.withLock { $0.removeValue(forKey: tenantID) }
    }

    private func load(tenantID: UUID) async throws -> [PriceOverride] {
        let database = self.database
        let logger = self.logger
        let timeout = loadTimeout
        return try await withDeadline(timeout, what: "loading price overrides") {
            let records = try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                try await PriceOverrideRepository(connection, logger: logger).list(provider: nil, model: nil, limit: 100_000, after: nil)
            }
            return records.map {
                PriceOverride(provider: $0.provider, model: $0.model, effectiveFrom: $0.effectiveFrom, prices: $0.prices)
            }
        }
    }
}
