import Foundation
import LLMLabStore
import Logging
import ServiceLifecycle
import Synchronization

/// In-memory health of route deployments, per (provider key, model): consecutive failures,
/// cooldowns and a latency EWMA for least-latency routing. The request path only reads and
/// updates memory; ``DeploymentHealthFlusher`` writes changed entries to
/// `deployment_health` in the background.
final class DeploymentHealthTracker: Sendable {
    typealias Key = DeploymentHealthRepository.HealthKey

    struct Entry: Sendable {
        var tenant: TenantScope
        var consecutiveFailures = 0
        var cooldownUntil: Date?
        var lastErrorClass = ""
        var lastLatencyMs: Int?
        var ewmaMs: Double?
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var dirty: Set<Key> = []
    }

    private let state = Mutex(State())
    let cooldown: Duration
    let failureThreshold: Int
    /// Weight of the newest sample in the latency EWMA.
    static let alpha = 0.3
    /// Longest cooldown a provider's `retry-after` can impose.
    static let maxRetryAfter: Double = 600

    init(cooldown: Duration, failureThreshold: Int) {
        self.cooldown = cooldown
        self.failureThreshold = max(1, failureThreshold)
    }

    /// When the target's cooldown ends, if it is cooling down at `now`.
    func coolingUntil(_ key: Key, now: Date = Date()) -> Date? {
        state.withLock { state in
            guard let until = state.entries[key]?.cooldownUntil, until > now else { return nil }
            return until
        }
    }

    /// Recent latency (EWMA, ms); `nil` when nothing is known yet.
    func latency(_ key: Key) -> Double? {
        state.withLock { $0.entries[key]?.ewmaMs }
    }

    func recordSuccess(_ key: Key, tenant: TenantScope, latency: Duration) {
        let ms = Int(latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000)
        state.withLock { state in
            var entry = state.entries[key] ?? Entry(tenant: tenant)
            entry.consecutiveFailures = 0
            entry.cooldownUntil = nil
            entry.lastLatencyMs = ms
            entry.ewmaMs = entry.ewmaMs.map { $0 * (1 - Self.alpha) + Double(ms) * Self.alpha } ?? Double(ms)
            state.entries[key] = entry
            state.dirty.insert(key)
        }
    }

    /// Counts a retryable failure; starts a cooldown after the threshold, or at once for
    /// the given `retryAfter` (a 429's header). Returns the cooldown end, if one applies.
    @discardableResult
    func recordFailure(_ key: Key, tenant: TenantScope, errorClass: String, retryAfter: Double? = nil,
                       now: Date = Date()) -> Date? {
        state.withLock { state in
            var entry = state.entries[key] ?? Entry(tenant: tenant)
            entry.consecutiveFailures += 1
            entry.lastErrorClass = errorClass
            if let retryAfter, retryAfter > 0 {
                entry.cooldownUntil = now.addingTimeInterval(min(retryAfter, Self.maxRetryAfter))
            } else if entry.consecutiveFailures >= failureThreshold {
                let (seconds, attoseconds) = cooldown.components
                entry.cooldownUntil = now.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
            }
            state.entries[key] = entry
            state.dirty.insert(key)
            return entry.cooldownUntil.flatMap { $0 > now ? $0 : nil }
        }
    }

    /// The changed entries since the last call, as rows to write.
    func takeDirty(now: Date = Date()) -> [(TenantScope, DeploymentHealthRecord)] {
        state.withLock { state in
            let keys = state.dirty
            state.dirty = []
            return keys.compactMap { key in
                guard let entry = state.entries[key] else { return nil }
                let cooling = entry.cooldownUntil.map { $0 > now } ?? false
                return (entry.tenant, DeploymentHealthRecord(
                    providerKeyID: key.providerKeyID, model: key.model, state: cooling ? .coolingDown : .healthy,
                    cooldownUntil: entry.cooldownUntil, consecutiveFailures: entry.consecutiveFailures,
                    lastErrorClass: entry.lastErrorClass, lastLatencyMilliseconds: entry.lastLatencyMs,
                    p50LatencyMilliseconds: entry.ewmaMs.map { Int($0.rounded()) }, updatedAt: now))
            }
        }
    }

    /// Puts entries back to be written on the next flush (after a failed write).
    func markDirty(_ keys: [Key]) {
        state.withLock { state in for key in keys { state.dirty.insert(key) } }
    }
}

/// Writes changed deployment health to `deployment_health` every interval, off the
/// request path; runs in the gateway application's services and flushes once more on
/// graceful shutdown.
struct DeploymentHealthFlusher: Service {
    let tracker: DeploymentHealthTracker
    let database: Database
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await flush()
        }
    }

    func flush() async {
        let rows = tracker.takeDirty()
        if rows.isEmpty { return }
        let byTenant = Dictionary(grouping: rows, by: { $0.0.tenantID })
        let logger = self.logger
        for (tenantID, rows) in byTenant {
            do {
                try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                    let repository = DeploymentHealthRepository(connection, logger: logger)
                    for (_, record) in rows { try await repository.put(record) }
                }
            } catch {
                logger.warning("deployment health could not be written; retrying on the next flush",
                               metadata: ["error": "\(error)"])
                tracker.markDirty(rows.map { .init(providerKeyID: $0.1.providerKeyID, model: $0.1.model) })
            }
        }
    }
}
