import Foundation
import LLMLabStore
import LLMLabTestSupport
import Logging
import PostgresNIO

/// Small helpers shared by the infrastructure tests.
enum Infra {
    static var logger: Logger {
        var logger = Logger(label: "llmlab.test.infrastructure")
        logger.logLevel = .warning
        return logger
    }

    /// Runs a query and returns the first column of every row as strings.
    static func strings(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [String] {
        var values: [String] = []
        for try await value in try await connection.query(query, logger: logger).decode(String.self) {
            values.append(value)
        }
        return values
    }

    static func count(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int {
        var result = 0
        for try await value in try await connection.query(query, logger: logger).decode(Int64.self) {
            result = Int(value)
        }
        return result
    }

    static func schemaExists(_ scope: TenantScope, in database: Database) async throws -> Bool {
        try await database.withControlTransaction { connection in
            try await count("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = \(scope.schemaName)", on: connection) == 1
        }
    }

    static func roleExists(_ scope: TenantScope, in database: Database) async throws -> Bool {
        try await database.withControlTransaction { connection in
            try await count("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = \(scope.roleName)", on: connection) == 1
        }
    }

    /// Inserts a `control.tenants` row for `scope` (no schema).
    static func insertTenantRow(_ scope: TenantScope, on connection: PostgresConnection) async throws {
        let slug = "t-" + scope.hex.prefix(12)
        try await connection.query(
            """
            INSERT INTO control.tenants (id, slug, display_name, schema_name, role_name, wrapped_data_key)
            VALUES (\(scope.tenantID), \(slug), \(slug), \(scope.schemaName), \(scope.roleName), '\\x00'::bytea)
            """,
            logger: logger
        )
    }

    /// Creates a tenant row and its provisioned schema, in one control transaction.
    static func createTenant(in database: Database) async throws -> TenantScope {
        let scope = TenantScope(tenantID: UUID())
        try await database.withControlTransaction { connection in
            try await insertTenantRow(scope, on: connection)
            try await TenantSchemaProvisioner.provision(scope, on: connection, logger: logger)
        }
        return scope
    }
}

struct ExpectedFailure: Error, Equatable {}
