public import Foundation
import LLMLabCore
public import Logging
public import PostgresNIO

/// `control.sessions`: login sessions, stored only as SHA-256 of the token.
public struct SessionRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func insert(tokenHash: String, userID: UUID, tenantID: UUID, expiresAt: Date) async throws {
        try await connection.query("""
            INSERT INTO control.sessions (token_hash, user_id, tenant_id, expires_at)
            VALUES (\(tokenHash), \(userID), \(tenantID), \(expiresAt))
            """, logger: logger)
    }

    /// The user and tenant of a live (unexpired) session.
    public func findLive(tokenHash: String) async throws -> (user: UserRecord, tenant: TenantRecord)? {
        let rows = try await connection.query("""
            SELECT u.id, u.tenant_id, u.email, u.password_hash, u.role, u.created_at,
                   t.id, t.slug, t.display_name, t.status, t.suspended_reason, t.wrapped_data_key, t.created_at
            FROM control.sessions s
            JOIN control.users u ON u.id = s.user_id
            JOIN control.tenants t ON t.id = s.tenant_id
            WHERE s.token_hash = \(tokenHash) AND s.expires_at > now()
            """, logger: logger)
        for try await (uid, utenant, email, hash, role, ucreated, tid, slug, name, status, reason, key, tcreated) in rows.decode(
            (UUID, UUID, String, String, String, Date, UUID, String, String, String, String, Data, Date).self)
        {
            let user = UserRecord(id: uid, tenantID: utenant, email: email, passwordHash: hash,
                                  role: .init(rawValue: role) ?? .viewer, createdAt: ucreated)
            let tenant = TenantRecord(id: tid, slug: slug, displayName: name, status: .init(rawValue: status) ?? .suspended,
                                      suspendedReason: reason, wrappedDataKey: key, createdAt: tcreated)
            return (user, tenant)
        }
        return nil
    }

    public func delete(tokenHash: String) async throws {
        try await connection.query("DELETE FROM control.sessions WHERE token_hash = \(tokenHash)", logger: logger)
    }

    /// Ends every session of a user (removal, role change).
    public func deleteAll(userID: UUID) async throws {
        try await connection.query("DELETE FROM control.sessions WHERE user_id = \(userID)", logger: logger)
    }

    public func deleteExpired() async throws {
        try await connection.query("DELETE FROM control.sessions WHERE expires_at <= now()", logger: logger)
    }
}
