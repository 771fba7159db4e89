/// The result of walking an audit hash chain: either every row checked out, or the first
/// row where the chain breaks (edited, deleted, reordered or inserted rows all show up as
/// a break at or just after the tampered position).
public enum AuditVerification: Sendable, Hashable {
    /// All `count` rows link and recompute.
    case intact(count: Int)
    /// The first row that does not fit, and why.
    case broken(sequence: Int64, reason: String)
}
