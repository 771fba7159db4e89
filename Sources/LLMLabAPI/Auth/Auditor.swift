public import Foundation
public import LLMLabCore
import LLMLabSecurity
public import LLMLabStore
public import Logging
public import PostgresNIO

/// Writes audit rows for the current call, in the caller's transaction, so that a
/// mutation and its audit row commit together or not at all.
public struct Auditor: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Appends a row describing the current call to `log` on `connection`.
    public func record(
        on connection: PostgresConnection, log: AuditLog, target: String, outcome: AuditOutcome = .success,
        detail: [String: String] = [:], actor: String? = nil
    ) async throws {
        let context = CallContext.current
        let entry = AuditRecord(
            sequence: 0, occurredAt: Date(),
            actor: actor ?? context?.principal?.actor ?? "anonymous",
            action: context?.method ?? "unknown",
            target: target, requestID: context?.requestID ?? "",
            outcome: outcome, detail: Self.format(detail),
            previousHash: "", hash: "")
        try await AuditLogRepository(connection, log: log, logger: logger).append(entry, seal: AuditChain.seal)
    }

    /// `key=value` pairs sorted by key: stable, readable, and never a secret because
    /// callers only pass non-secret facts.
    static func format(_ detail: [String: String]) -> String {
        detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
