/// A request field that is missing, malformed or too large. The edge maps it to
/// `invalidArgument` (gRPC) or HTTP 400 with the field named, so callers know what to fix.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request field, in the wire spelling (`owner_email`, `monthly_budget_usd`).
    public var field: String
    /// What is wrong and what to send instead.
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
