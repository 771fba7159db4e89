public import Foundation

/// Microseconds since 1970: PostgreSQL's own precision, so keyset cursors compare exactly.
public func microsSinceEpoch(_ date: Date) -> Int64 {
    Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
}

