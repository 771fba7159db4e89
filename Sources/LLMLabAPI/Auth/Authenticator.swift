public import Foundation
public import LLMLabCore
import LLMLabSecurity
public import LLMLabStore
public import Logging
import GRPCCore

/// Turns a bearer token into a ``Principal``: a session (`lls_`), a tenant API key
/// (`llk_`) or the operator credential (`llo_`). Only SHA-256 of a token is ever looked
/// up; the token itself is never logged.
public struct Authenticator: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The principal behind `token`, or an `unauthenticated` error that says what to do.
    public func authenticate(token: String) async throws -> (Principal, TenantRecord?) {
        guard let kind = SecretToken.kind(of: token) else {
            throw APIError(.unauthenticated, "the credential is not an LLMLab token (expected lls_…, llk_… or llo_…); sign in with llmlab-admin login")
        }
        let hash = SecretToken.sha256Hex(token)
        switch kind {
        case .session:
            let found = try await database.withControlTransaction { connection in
                try await SessionRepository(connection, logger: logger).findLive(tokenHash: hash)
            }
            guard let (user, tenant) = found else {
                throw APIError(.unauthenticated, "the session has expired or was ended; sign in again with llmlab-admin login")
            }
            let principal = Principal(
                kind: .user, id: user.id, tenantID: tenant.id, tenantSlug: tenant.slug, role: user.role,
                email: user.email, userID: user.id, sessionTokenHash: hash)
            return (principal, tenant)
        case .apiKey:
            let found = try await database.withControlTransaction { connection in
                let keys = ApiKeyRepository(connection, logger: logger)
                guard let found = try await keys.findUsable(secretHash: hash) else { return nil as (ApiKeyRecord, TenantRecord)? }
                try await keys.touch(id: found.key.id)
                return (found.key, found.tenant)
            }
            guard let (key, tenant) = found else {
                throw APIError(.unauthenticated, "the API key is unknown, revoked or expired; create a new one with llmlab-admin apikey create")
            }
            let principal = Principal(
                kind: .apiKey, id: key.id, tenantID: tenant.id, tenantSlug: tenant.slug, role: key.role,
                projectID: key.projectID, scopes: Set(key.scopes))
            return (principal, tenant)
        case .operator:
            let found = try await database.withControlTransaction { connection in
                try await OperatorTokenRepository(connection, logger: logger).findLive(tokenHash: hash)
            }
            guard let id = found else {
                throw APIError(.unauthenticated, "the operator token is not valid; use the one in $LLMLAB_HOME/operator.token")
            }
            return (Principal(kind: .operator, id: id, scopes: []), nil)
        }
    }
}
