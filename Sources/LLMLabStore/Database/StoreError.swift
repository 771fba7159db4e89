/// What went wrong in the persistence layer, in terms the edges map once to gRPC / HTTP
/// status codes. `message` says what was wrong and what to do; it never carries a secret
/// (no passwords, no key material, no bind values), so it may reach a client.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; the edge maps each case to one status code.
    public enum Code: String, Sendable, Hashable {
        /// The addressed row does not exist (or is not visible to this tenant).
        case notFound
        /// A uniqueness rule was broken (duplicate name, slug, ...).
        case conflict
        /// The request is valid but the stored state does not allow it now.
        case failedPrecondition
        /// Input the store rejected (the edge should have caught it earlier).
        case invalidArgument
        /// PostgreSQL cannot be reached or is shutting down; retrying later may work.
        case unavailable
        /// A schema migration failed; the server must not start on a half-migrated schema.
        case migrationFailed
        /// The database settings (URL, embedded cluster setup) are unusable as given.
        case invalidConfiguration
        /// A broken invariant inside the store: a bug, not a user error.
        case `internal`
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }
}
