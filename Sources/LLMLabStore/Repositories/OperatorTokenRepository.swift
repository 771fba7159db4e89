public import Foundation
public import Logging
public import PostgresNIO

/// `control.operator_tokens`: platform-operator credentials, stored as SHA-256 only.
public struct OperatorTokenRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func insert(id: UUID, name: String, tokenHash: String) async throws {
        try await connection.query("""
            INSERT INTO control.operator_tokens (id, name, token_hash) VALUES (\(id), \(name), \(tokenHash))
            """, logger: logger)
    }

    /// The id of a live operator credential with this hash.
    public func findLive(tokenHash: String) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT id FROM control.operator_tokens WHERE token_hash = \(tokenHash) AND revoked_at IS NULL
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    public func countLive() async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*)::int8 FROM control.operator_tokens WHERE revoked_at IS NULL", logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    /// Revokes every live operator credential (used before issuing a replacement).
    public func revokeAll() async throws {
        try await connection.query(
            "UPDATE control.operator_tokens SET revoked_at = now() WHERE revoked_at IS NULL", logger: logger)
    }
}
