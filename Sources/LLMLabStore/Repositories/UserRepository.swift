public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// A person's membership in one tenant.
public struct UserRecord: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var email: String
    public var passwordHash: String
    public var role: Role
    public var createdAt: Date

    public init(id: UUID, tenantID: UUID, email: String, passwordHash: String, role: Role, createdAt: Date = Date()) {
        self.id = id
        self.tenantID = tenantID
        self.email = email
        self.passwordHash = passwordHash
        self.role = role
        self.createdAt = createdAt
    }
}

/// `control.users`. Every query is scoped by tenant id: another tenant's user id finds
/// nothing, exactly like an unknown id.
public struct UserRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func insert(_ user: UserRecord) async throws -> UserRecord {
        do {
            let rows = try await connection.query("""
                INSERT INTO control.users (id, tenant_id, email, password_hash, role)
                VALUES (\(user.id), \(user.tenantID), \(user.email), \(user.passwordHash), \(user.role.rawValue))
                RETURNING id, tenant_id, email, password_hash, role, created_at
                """, logger: logger)
            guard let inserted = try await Self.decode(rows).first else {
                throw StoreError(code: .internal, message: "user insert returned no row")
            }
            return inserted
        } catch where isUniqueViolation(error) {
            throw StoreError(code: .conflict, message: "a user with email \"\(user.email)\" already exists in this tenant")
        }
    }

    public func find(tenantID: UUID, email: String) async throws -> UserRecord? {
        let rows = try await connection.query("""
            SELECT id, tenant_id, email, password_hash, role, created_at
            FROM control.users WHERE tenant_id = \(tenantID) AND email = \(email)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func find(tenantID: UUID, id: UUID) async throws -> UserRecord? {
        let rows = try await connection.query("""
            SELECT id, tenant_id, email, password_hash, role, created_at
            FROM control.users WHERE tenant_id = \(tenantID) AND id = \(id)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Users ordered by email, after `afterEmail`.
    public func list(tenantID: UUID, limit: Int, afterEmail: String?) async throws -> [UserRecord] {
        let after = afterEmail ?? ""
        let rows = try await connection.query("""
            SELECT id, tenant_id, email, password_hash, role, created_at
            FROM control.users WHERE tenant_id = \(tenantID) AND email > \(after)
            ORDER BY email LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    public func setRole(tenantID: UUID, id: UUID, role: Role) async throws -> UserRecord? {
        let rows = try await connection.query("""
            UPDATE control.users SET role = \(role.rawValue), updated_at = now()
            WHERE tenant_id = \(tenantID) AND id = \(id)
            RETURNING id, tenant_id, email, password_hash, role, created_at
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func updatePasswordHash(id: UUID, _ hash: String) async throws {
        try await connection.query(
            "UPDATE control.users SET password_hash = \(hash), updated_at = now() WHERE id = \(id)", logger: logger)
    }

    public func delete(tenantID: UUID, id: UUID) async throws {
        try await connection.query(
            "DELETE FROM control.users WHERE tenant_id = \(tenantID) AND id = \(id)", logger: logger)
    }

    /// The tenant's owners, row-locked so that two concurrent demotions cannot both see
    /// "another owner remains" and leave the tenant with none.
    public func lockOwners(tenantID: UUID) async throws -> [UUID] {
        let rows = try await connection.query("""
            SELECT id FROM control.users WHERE tenant_id = \(tenantID) AND role = 'owner'
            ORDER BY id FOR UPDATE
            """, logger: logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [UserRecord] {
        var result: [UserRecord] = []
        for try await (id, tenant, email, hash, role, created) in rows.decode(
            (UUID, UUID, String, String, String, Date).self)
        {
            result.append(UserRecord(
                id: id, tenantID: tenant, email: email, passwordHash: hash,
                role: Role(rawValue: role) ?? .viewer, createdAt: created))
        }
        return result
    }
}
