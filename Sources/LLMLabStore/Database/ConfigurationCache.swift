import Synchronization

/// A small in-memory cache for configuration read on every request (API keys, projects,
/// provider keys, routes; a project's trace settings at ingest), so hot paths do not touch
/// PostgreSQL.
///
/// An entry is used while it is younger than its time to live AND no configuration change
/// happened since it was loaded (``ChangeSignal``, bumped by the control plane): changes
/// made through this server apply to the next request; changes made through another
/// server process apply within the time to live. Concurrent misses for one key may load
/// twice; that is harmless. The cache is cleared when it grows past ``capacity``.
public final class ConfigurationCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var generation: UInt64
        var expires: ContinuousClock.Instant
    }

    let changes: ChangeSignal
    let capacity: Int
    private let entries = Mutex([Key: Entry]())

    public init(changes: ChangeSignal, capacity: Int = 10_000) {
        self.changes = changes
        self.capacity = capacity
    }

    /// The cached value, or the one `load` returns, cached for the time to live it returns
    /// with it. A `load` that throws caches nothing.
    public func value(for key: Key, load: () async throws -> (value: Value, ttl: Duration)) async throws -> Value {
        let generation = changes.current
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), entry.generation == generation, entry.expires > now {
            return entry.value
        }
        let (value, ttl) = try await load()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, generation: generation, expires: now + ttl)
        }
        return value
    }

    /// Forgets everything (tests).
    public func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
