public import Foundation

/// One row of a tamper-evident audit log (tenant or control). The hash chain covers every
/// field here except `hash` itself, so any later edit of a stored row is detectable.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Position in the chain, starting at 1. Assigned by the store.
    public var sequence: Int64
    public var occurredAt: Date
    /// Who acted: `user:<id>`, `apikey:<id>`, `operator:<id>` or `anonymous`.
    public var actor: String
    /// The RPC or job that acted, e.g. `llmlab.v1.ProjectService/CreateProject`.
    public var action: String
    /// What was acted on, e.g. `project:<id>`; empty when nothing specific.
    public var target: String
    public var requestID: String
    public var outcome: AuditOutcome
    /// Non-secret detail as sorted `key=value` text; never a secret or a prompt.
    public var detail: String
    /// `hash` of the previous row, or 64 zeros for the first row.
    public var previousHash: String
    /// SHA-256 (hex) over `previousHash` and the canonical form of this row.
    public var hash: String

    public init(
        sequence: Int64, occurredAt: Date, actor: String, action: String, target: String,
        requestID: String, outcome: AuditOutcome, detail: String, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.target = target
        self.requestID = requestID
        self.outcome = outcome
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The hash that precedes the first row of every chain.
    public static let genesisHash = String(repeating: "0", count: 64)
}

/// Whether an audited call did what it asked.
public enum AuditOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case success
    case denied
    case failed
}
