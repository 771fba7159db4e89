import Foundation
import LLMLabCore
import LLMLabStore
import Logging
import Synchronization

/// Each tenant's price overrides, loaded from `price_overrides` at most once per
/// ``ttl`` so pricing a request rarely touches the database. A load that fails (or takes
/// longer than ``loadTimeout``) keeps the last known overrides (or none) and is retried
/// after ``retryAfterFailure``; the request is priced regardless.
final class PriceOverrideCache: Sendable {
    private struct Entry {
        var overrides: [PriceOverride]
        var expires: ContinuousClock.Instant
    }

    let database: Database
    let logger: Logger
    let ttl: Duration
    let loadTimeout: Duration
    let retryAfterFailure: Duration
    private let entries = Mutex([UUID: Entry]())

    init(database: Database, logger: Logger, ttl: Duration = .seconds(30), loadTimeout: Duration = .seconds(1),
         retryAfterFailure: Duration = .seconds(5)) {
        self.database = database
        self.logger = logger
        self.ttl = ttl
        self.loadTimeout = loadTimeout
        self.retryAfterFailure = retryAfterFailure
    }

    func overrides(tenantID: UUID) async -> [PriceOverride] {
        let now = ContinuousClock.now
        let cached = entries.withLock { $0[tenantID] }
        if let cached, cached.expires > now { return cached.overrides }
        do {
            let loaded = try await load(tenantID: tenantID)
            entries.withLock { $0[tenantID] = Entry(overrides: loaded, expires: .now + ttl) }
            return loaded
        } catch {
            let fallback = cached?.overrides ?? []
            logger.warning("could not load price overrides; pricing with the last known ones",
                           metadata: ["tenant_id": "\(tenantID)", "known": "\(fallback.count)", "error": "\(String(reflecting: error))"])
            entries.withLock { $0[tenantID] = Entry(overrides: fallback, expires: .now + retryAfterFailure) }
            return fallback
        }
    }

    /// Forgets a tenant's overrides (tests; after a change made in this process).
    func invalidate(tenantID: UUID) {
        _ = entries.withLock { $0.removeValue(forKey: tenantID) }
    }

    private func load(tenantID: UUID) async throws -> [PriceOverride] {
        let database = self.database
        let logger = self.logger
        let timeout = loadTimeout
        return try await withThrowingTaskGroup(of: [PriceOverride]?.self) { group in
            group.addTask {
                let records = try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                    try await PriceOverrideRepository(connection, logger: logger).list(provider: nil, model: nil, limit: 100_000, after: nil)
                }
                return records.map {
                    PriceOverride(provider: $0.provider, model: $0.model, effectiveFrom: $0.effectiveFrom, prices: $0.prices)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let overrides = first else { throw UsageWriteTimeout() }
            return overrides
        }
    }
}
