public import Foundation

/// The resolved caller of a request: a tenant user (by session), a tenant API key, or the
/// platform operator. Built once by the authentication step and read by every handler.
public struct Principal: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case user
        case apiKey = "apikey"
        case `operator`
    }

    public var kind: Kind
    /// The user id, API key id or operator credential id.
    public var id: UUID
    public var tenantID: UUID?
    public var tenantSlug: String
    /// The role inside the tenant; `nil` for the operator.
    public var role: Role?
    public var email: String
    /// For users: the user; for API keys: the user or operator who created it (audit only).
    public var userID: UUID?
    /// Set for API keys limited to one project.
    public var projectID: UUID?
    /// What an API key may be used for (`control`, `proxy`, `ingest`); users have all.
    public var scopes: Set<String>
    /// SHA-256 of the session token, so Logout can end exactly this session.
    public var sessionTokenHash: String?

    public init(
        kind: Kind, id: UUID, tenantID: UUID? = nil, tenantSlug: String = "", role: Role? = nil,
        email: String = "", userID: UUID? = nil, projectID: UUID? = nil,
        scopes: Set<String> = ApiKeyScope.all, sessionTokenHash: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.tenantID = tenantID
        self.tenantSlug = tenantSlug
        self.role = role
        self.email = email
        self.userID = userID
        self.projectID = projectID
        self.scopes = scopes
        self.sessionTokenHash = sessionTokenHash
    }

    /// How the audit log names this caller: `user:<id>`, `apikey:<id>`, `operator:<id>`.
    public var actor: String { "\(kind.rawValue):\(id.uuidString.lowercased())" }

    /// Whether a project-scoped key may touch `project`; unscoped callers may touch all.
    public func mayAccess(project: UUID) -> Bool {
        projectID == nil || projectID == project
    }
}

/// The uses an API key can be limited to.
public enum ApiKeyScope {
    public static let control = "control"
    public static let proxy = "proxy"
    public static let ingest = "ingest"
    public static let all: Set<String> = [control, proxy, ingest]
}
