import Foundation
import HTTPTypes
import Synchronization

/// Per-key requests-per-minute and tokens-per-minute limits: a sliding-window log over
/// the last 60 seconds, in memory (per server, like the budget ledgers).
///
/// RPM counts admitted requests. TPM counts, for each admitted request, its estimated
/// tokens (the prompt estimate plus `max_tokens` when the client set one) until the
/// response is metered, then the tokens the provider reported. A request is refused when
/// the window is already full; the refusal says how long until room frees up
/// (`retry-after`, whole seconds, at least 1).
final class RateLimiter: Sendable {
    static let window: Duration = .seconds(60)

    private struct Entry {
        var id: UInt64
        var at: ContinuousClock.Instant
        var tokens: Int
    }

    private struct KeyWindow {
        var requests: [ContinuousClock.Instant] = []
        var tokens: [Entry] = []

        mutating func prune(now: ContinuousClock.Instant) {
            let cutoff = now - RateLimiter.window
            requests.removeAll { $0 <= cutoff }
            tokens.removeAll { $0.at <= cutoff }
        }
    }

    private struct State {
        var windows: [UUID: KeyWindow] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Admits one request of `keyID` or throws a 429 `rate_limit_exceeded`. Returns the id
    /// of its token entry (for ``settle(keyID:entry:tokens:)``) when a TPM limit applies.
    func admit(keyID: UUID, keyName: String, rpm: Int?, tpm: Int?, estimatedTokens: Int,
               now: ContinuousClock.Instant = .now) throws(GatewayError) -> UInt64? {
        guard rpm != nil || tpm != nil else { return nil }
        let outcome: Result<UInt64?, GatewayError> = state.withLock { state in
            var window = state.windows[keyID] ?? KeyWindow()
            window.prune(now: now)
            defer { state.windows[keyID] = window }
            if let rpm, window.requests.count >= rpm {
                let oldest = window.requests[window.requests.count - rpm]
                return .failure(Self.refusal("API key '\(keyName)' is limited to \(rpm) requests per minute",
                                             wait: oldest + Self.window - now))
            }
            if let tpm {
                let used = window.tokens.reduce(0) { $0 + $1.tokens }
                if used >= tpm {
                    // Wait until enough of the oldest entries leave the window.
                    var freed = 0
                    var wait = Self.window
                    for entry in window.tokens {
                        freed += entry.tokens
                        if used - freed < tpm {
                            wait = entry.at + Self.window - now
                            break
                        }
                    }
                    return .failure(Self.refusal(
                        "API key '\(keyName)' is limited to \(tpm) tokens per minute (\(used) used in the last minute)", wait: wait))
                }
            }
            if rpm != nil { window.requests.append(now) }
            guard tpm != nil else { return .success(nil) }
            state.nextID += 1
            window.tokens.append(Entry(id: state.nextID, at: now, tokens: max(0, estimatedTokens)))
            return .success(state.nextID)
        }
        return try outcome.get()
    }

    /// Replaces a request's estimated tokens with what the provider reported.
    func settle(keyID: UUID, entry: UInt64, tokens: Int) {
        state.withLock { state in
            guard var window = state.windows[keyID], let index = window.tokens.firstIndex(where: { $0.id == entry }) else { return }
            window.tokens[index].tokens = max(0, tokens)
            state.windows[keyID] = window
        }
    }

    static let retryAfter = HTTPField.Name("retry-after")!

    static func refusal(_ what: String, wait: Duration) -> GatewayError {
        let seconds = max(1, Int((wait + .milliseconds(999)).components.seconds))
        return GatewayError(.tooManyRequests, .rateLimit, "\(what); retry after \(seconds) s",
                            code: "rate_limit_exceeded", headers: [Self.retryAfter: String(seconds)])
    }
}
