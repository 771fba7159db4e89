public import Logging
import LLMLabTenantSchema
public import PostgresNIO

/// Creates, upgrades and removes one tenant's schema and role. Every function works inside
/// the caller's transaction (open it with ``Database/withControlTransaction(_:)``, i.e. as
/// the login role), so creating a tenant row and its schema is all-or-nothing.
///
/// Identifiers come only from ``TenantScope`` (validated hex), always quoted.
public enum TenantSchemaProvisioner {
    /// Tables the tenant role may read and append to but never change: the audit chain.
    static let appendOnlyTables = ["audit_events"]

    /// The tenant migrations shipped in the binary, as ``Migration`` values.
    public static let migrations: [Migration] = TenantSchema.migrations.map {
        Migration(version: $0.version, name: $0.name, sql: $0.sql)
    }

    /// Creates role `llmlab_t_<hex>` (NOLOGIN), makes the login role a member (so
    /// `SET ROLE` works), creates schema `t_<hex>` owned by the login role, applies and
    /// records every tenant migration with `search_path` set to the schema, then grants the
    /// tenant role USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on its tables except
    /// `audit_events` (SELECT, INSERT only) and `schema_migrations` (nothing), and
    /// USAGE/SELECT on its sequences. Fails if the role or schema already exists.
    public static func provision(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        do {
            try await connection.query("CREATE ROLE \(unescaped: scope.quotedRole) NOLOGIN", logger: logger)
            try await connection.query("GRANT \(unescaped: scope.quotedRole) TO SESSION_USER", logger: logger)
            try await connection.query("CREATE SCHEMA \(unescaped: scope.quotedSchema)", logger: logger)
        } catch {
            throw provisioningError(scope, step: "creating the role and schema", error: error)
        }
        try await migrateAndGrant(scope, on: connection, logger: logger)
        logger.info("provisioned tenant schema", metadata: ["schema": "\(scope.schemaName)"])
    }

    /// Brings an existing tenant schema up to date: recreates the role or its membership if
    /// missing (roles are cluster-global and not part of a database dump), applies pending
    /// migrations, and re-applies the grants. Idempotent.
    public static func upgrade(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        do {
            let roleExists = try await connection.query(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = \(scope.roleName)", logger: logger
            ).collect().count > 0
            if !roleExists {
                logger.warning("tenant role missing; recreating it", metadata: ["role": "\(scope.roleName)"])
                try await connection.query("CREATE ROLE \(unescaped: scope.quotedRole) NOLOGIN", logger: logger)
            }
            var isMember = false
            for try await member in try await connection.query(
                "SELECT pg_catalog.pg_has_role(session_user, \(scope.roleName), 'MEMBER')", logger: logger
            ).decode(Bool.self) {
                isMember = member
            }
            if !isMember {
                try await connection.query("GRANT \(unescaped: scope.quotedRole) TO SESSION_USER", logger: logger)
            }
            try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: scope.quotedSchema)", logger: logger)
        } catch {
            throw provisioningError(scope, step: "checking the role and schema", error: error)
        }
        try await migrateAndGrant(scope, on: connection, logger: logger)
    }

    /// Removes the schema with everything in it, then the role. In the caller's transaction.
    public static func drop(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        do {
            try await connection.query("DROP SCHEMA IF EXISTS \(unescaped: scope.quotedSchema) CASCADE", logger: logger)
            try await connection.query("DROP ROLE IF EXISTS \(unescaped: scope.quotedRole)", logger: logger)
        } catch {
            throw provisioningError(scope, step: "dropping the schema and role", error: error)
        }
        logger.info("dropped tenant schema", metadata: ["schema": "\(scope.schemaName)"])
    }

    /// Applies pending migrations with `search_path` = the tenant schema, then the grants.
    /// Restores the caller's `search_path` afterwards (transaction-local either way).
    static func migrateAndGrant(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        let migrations = Self.migrations
        try Migration.validate(migrations, label: "tenant")
        var savedSearchPath = ""
        do {
            for try await value in try await connection.query("SELECT pg_catalog.current_setting('search_path')", logger: logger)
                .decode(String.self) {
                savedSearchPath = value
            }
            try await connection.query(
                "SELECT pg_catalog.set_config('search_path', \(scope.quotedSchema), true)", logger: logger
            )
            try await SchemaMigrationLedger.ensureTable(quotedSchema: scope.quotedSchema, on: connection, logger: logger)
        } catch {
            throw provisioningError(scope, step: "preparing the schema", error: error)
        }
        try await SchemaMigrationLedger.applyPending(
            migrations, quotedSchema: scope.quotedSchema, schemaLabel: scope.schemaName, on: connection, logger: logger
        )
        do {
            try await applyGrants(scope, on: connection, logger: logger)
            try await connection.query(
                "SELECT pg_catalog.set_config('search_path', \(savedSearchPath), true)", logger: logger
            )
        } catch {
            throw provisioningError(scope, step: "granting privileges", error: error)
        }
    }

    /// Resets the tenant role's privileges to exactly what the application needs.
    static func applyGrants(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        let schema = scope.quotedSchema
        let role = scope.quotedRole
        var statements = [
            "GRANT USAGE ON SCHEMA \(schema) TO \(role)",
            "REVOKE ALL ON ALL TABLES IN SCHEMA \(schema) FROM \(role)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(schema) TO \(role)",
            "REVOKE ALL ON \(schema).schema_migrations FROM \(role)",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA \(schema) FROM \(role)",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA \(schema) TO \(role)",
        ]
        for table in appendOnlyTables {
            let exists = try await connection.query(
                "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = \(scope.schemaName) AND tablename = \(table)",
                logger: logger
            ).collect().count > 0
            if exists {
                statements.append("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON \(schema).\"\(table)\" FROM \(role)")
            }
        }
        for statement in statements {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    static func provisioningError(_ scope: TenantScope, step: String, error: any Error) -> any Error {
        if error is StoreError { return error }
        if isConnectionFailure(error) {
            return StoreError(code: .unavailable, message: "the database connection failed while \(step) for \(scope)")
        }
        if postgresSQLState(error) == "42710" || postgresSQLState(error) == "42P06" {
            return StoreError(code: .conflict, message: "the schema or role of \(scope) already exists")
        }
        if postgresSQLState(error) == "42501" {
            return StoreError(
                code: .failedPrecondition,
                message: "the database login role may not manage roles while \(step) for \(scope): it needs CREATEROLE (and must not be inside a tenant transaction)"
            )
        }
        var message = "failed while \(step) for \(scope)"
        if let serverMessage = postgresServerMessage(error) {
            message += ": \(serverMessage)"
        }
        return StoreError(code: .internal, message: message)
    }
}
