import Synchronization

/// A FIFO async mutex: serialises a writer's draining, spooling and replay (its loop, an
/// explicit flush, a replay) so two of them never write the same records at once.
/// Waiters are not cancellable; holders are short.
public final class AsyncSerialGate: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func withLock<R: Sendable>(_ body: () async -> R) async -> R {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if acquired { continuation.resume() }
        }
        let result = await body()
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
        return result
    }
}
