import Foundation

/// Slows password guessing: after a few failures for the same account or the same peer,
/// further attempts are refused for a delay that doubles with each failure (capped). A
/// success clears the account's record. In memory: a restart forgives, which is fine for
/// throttling (argon2's cost is the lasting defence).
public actor LoginThrottle {
    public struct Configuration: Sendable {
        /// Failures allowed before delays start.
        public var freeFailures: Int = 3
        public var baseDelay: Duration = .seconds(1)
        public var maxDelay: Duration = .seconds(300)
        /// Records idle longer than this are forgotten.
        public var forgetAfter: Duration = .seconds(3600)
        /// Peers get more room than accounts: many users may share one address (NAT).
        public var peerFreeFailures: Int = 20
        public static let defaults = Configuration()
        public init() {}
    }

    struct Record {
        var failures: Int
        var lockedUntil: ContinuousClock.Instant
        var lastFailure: ContinuousClock.Instant
    }

    let configuration: Configuration
    private var accounts: [String: Record] = [:]
    private var peers: [String: Record] = [:]
    private let clock = ContinuousClock()

    public init(configuration: Configuration = .defaults) {
        self.configuration = configuration
    }

    /// How long the caller must still wait, or `nil` when an attempt may proceed.
    public func waitRequired(account: String, peer: String) -> Duration? {
        let now = clock.now
        forgetStale(now: now)
        let waits = [accounts[account], peers[peer]].compactMap { $0 }.map { $0.lockedUntil - now }.filter { $0 > .zero }
        return waits.max()
    }

    public func recordFailure(account: String, peer: String) {
        let now = clock.now
        accounts[account] = next(accounts[account], now: now, free: configuration.freeFailures)
        peers[peer] = next(peers[peer], now: now, free: configuration.peerFreeFailures)
    }

    public func recordSuccess(account: String) {
        accounts[account] = nil
    }

    private func next(_ record: Record?, now: ContinuousClock.Instant, free: Int) -> Record {
        let recent = record.flatMap { now - $0.lastFailure < configuration.forgetAfter ? $0 : nil }
        let failures = (recent?.failures ?? 0) + 1
        var delay = Duration.zero
        if failures > free {
            let exponent = min(failures - free - 1, 20)
            delay = min(configuration.baseDelay * (1 << exponent), configuration.maxDelay)
        }
        return Record(failures: failures, lockedUntil: now + delay, lastFailure: now)
    }

    private func forgetStale(now: ContinuousClock.Instant) {
        if accounts.count + peers.count < 10_000 { return }
        accounts = accounts.filter { now - $0.value.lastFailure < configuration.forgetAfter }
        peers = peers.filter { now - $0.value.lastFailure < configuration.forgetAfter }
    }
}
