/// Runs `operation`, giving up after `timeout` with ``DeadlineExceeded`` (the operation is
/// cancelled). For database work that must not hold up its caller — usage and span writes
/// spool instead, price overrides fall back to the last known ones.
///
/// A cancelled PostgreSQL query may still complete on the server; callers only use this
/// where that is harmless (idempotent writes, reads).
public func withDeadline<T: Sendable>(_ timeout: Duration, what: String,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded(what: what) }
        return value
    }
}

/// ``withDeadline(_:what:_:)`` ran out of time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "\(what) did not finish in time" }
}
