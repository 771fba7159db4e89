import Synchronization

/// A generation counter for configuration the proxy caches (API keys, tenants, projects,
/// provider keys, routes). The control plane bumps it after every successful mutating call;
/// the proxy's caches compare the generation they loaded at with ``current`` and reload
/// when it moved, so a revoked key or a changed route takes effect on the next request in
/// this process. Other server processes on the same database see changes when their cache
/// entries expire (a few seconds).
public final class ChangeSignal: Sendable {
    private let generation = Atomic<UInt64>(0)

    public init() {}

    /// The current generation.
    public var current: UInt64 { generation.load(ordering: .acquiring) }

    /// Marks cached configuration stale.
    public func bump() {
        generation.add(1, ordering: .releasing)
    }
}
