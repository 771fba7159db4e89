public import Foundation
public import Logging
public import PostgresNIO

/// A tenant as the control schema stores it.
public struct TenantRecord: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case active
        case suspended
    }

    public var id: UUID
    public var slug: String
    public var displayName: String
    public var status: Status
    public var suspendedReason: String
    /// The tenant's data key, wrapped by the master key (see LLMLabSecurity.KeyVault).
    public var wrappedDataKey: Data
    public var createdAt: Date

    public var scope: TenantScope { TenantScope(tenantID: id) }
}

/// `control.tenants`. Works on the connection of the caller's transaction, so that a
/// tenant, its schema and its owner are created or dropped together.
public struct TenantRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }


    public func insert(id: UUID, slug: String, displayName: String, wrappedDataKey: Data) async throws -> TenantRecord {
        let scope = TenantScope(tenantID: id)
        do {
            let rows = try await connection.query("""
                INSERT INTO control.tenants (id, slug, display_name, schema_name, role_name, wrapped_data_key)
                VALUES (\(id), \(slug), \(displayName), \(scope.schemaName), \(scope.roleName), \(wrappedDataKey))
                RETURNING id, slug, display_name, status, suspended_reason, wrapped_data_key, created_at
                """, logger: logger)
            guard let tenant = try await Self.decode(rows).first else {
                throw StoreError(code: .internal, message: "tenant insert returned no row")
            }
            return tenant
        } catch where isUniqueViolation(error) {
            throw StoreError(code: .conflict, message: "a tenant with slug \"\(slug)\" already exists; choose another slug")
        }
    }

    public func find(slug: String) async throws -> TenantRecord? {
        let rows = try await connection.query("""
            SELECT id, slug, display_name, status, suspended_reason, wrapped_data_key, created_at
            FROM control.tenants WHERE slug = \(slug)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func find(id: UUID) async throws -> TenantRecord? {
        let rows = try await connection.query("""
            SELECT id, slug, display_name, status, suspended_reason, wrapped_data_key, created_at
            FROM control.tenants WHERE id = \(id)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Tenants ordered by slug, after `afterSlug` (keyset pagination).
    public func list(limit: Int, afterSlug: String?) async throws -> [TenantRecord] {
        let after = afterSlug ?? ""
        let rows = try await connection.query("""
            SELECT id, slug, display_name, status, suspended_reason, wrapped_data_key, created_at
            FROM control.tenants WHERE slug > \(after) ORDER BY slug LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    public func setStatus(id: UUID, _ status: TenantRecord.Status, reason: String) async throws -> TenantRecord? {
        let rows = try await connection.query("""
            UPDATE control.tenants SET status = \(status.rawValue), suspended_reason = \(reason), updated_at = now()
            WHERE id = \(id)
            RETURNING id, slug, display_name, status, suspended_reason, wrapped_data_key, created_at
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func delete(id: UUID) async throws {
        try await connection.query("DELETE FROM control.tenants WHERE id = \(id)", logger: logger)
    }

    /// Every tenant's id and wrapped data key, locked for a master-key rotation.
    public func wrappedKeysForUpdate() async throws -> [(UUID, Data)] {
        let rows = try await connection.query(
            "SELECT id, wrapped_data_key FROM control.tenants ORDER BY id FOR UPDATE", logger: logger)
        var result: [(UUID, Data)] = []
        for try await (id, key) in rows.decode((UUID, Data).self) { result.append((id, key)) }
        return result
    }

    public func updateWrappedKey(id: UUID, _ wrapped: Data) async throws {
        try await connection.query(
            "UPDATE control.tenants SET wrapped_data_key = \(wrapped), updated_at = now() WHERE id = \(id)",
            logger: logger)
    }

    /// Every tenant scope, for schema upgrades at start.
    public func allScopes() async throws -> [TenantScope] {
        let rows = try await connection.query("SELECT id FROM control.tenants ORDER BY id", logger: logger)
        var result: [TenantScope] = []
        for try await id in rows.decode(UUID.self) { result.append(TenantScope(tenantID: id)) }
        return result
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [TenantRecord] {
        var result: [TenantRecord] = []
        for try await (id, slug, name, status, reason, key, created) in rows.decode(
            (UUID, String, String, String, String, Data, Date).self)
        {
            result.append(TenantRecord(
                id: id, slug: slug, displayName: name, status: TenantRecord.Status(rawValue: status) ?? .suspended,
                suspendedReason: reason, wrappedDataKey: key, createdAt: created))
        }
        return result
    }
}
