import Foundation
public import Logging
import PostgresNIO

/// Brings the database up to the schema this binary expects, at every server start:
/// first the `control` schema, then every tenant schema listed in `control.tenants`.
///
/// The whole run holds a PostgreSQL advisory lock (a fixed key, per database) on one
/// connection, so servers starting together take turns; the second finds nothing to do.
/// Each control migration runs in its own transaction; each tenant is upgraded in one
/// transaction. Applied versions are recorded in `<schema>.schema_migrations`, so
/// re-running applies nothing.
public struct Migrator: Sendable {
    /// `pg_advisory_lock` key: the ASCII bytes of "llmlab/m" as a big-endian Int64.
    static let advisoryLockKey: Int64 = 0x6C6C_6D6C_6162_2F6D

    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func migrateAll() async throws {
        let logger = self.logger
        let started = ContinuousClock.now
        let summary: (control: Int, tenants: Int, upgradedTenants: Int)
        do {
            summary = try await self.database.client.withConnection { connection in
                try await connection.query("SELECT pg_catalog.pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
                do {
                    let control = try await Self.migrateControl(on: connection, logger: logger)
                    let tenants = try await Self.migrateTenants(on: connection, logger: logger)
                    try await connection.query("SELECT pg_catalog.pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                    return (control, tenants.total, tenants.upgraded)
                } catch {
                    // Session-level lock: release it before the connection returns to the pool.
                    _ = try? await connection.query("SELECT pg_catalog.pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            if isConnectionFailure(error) {
                throw StoreError(code: .unavailable, message: "cannot reach the database to run migrations; check LLMLAB_DATABASE_URL and that PostgreSQL is running")
            }
            var message = "running migrations failed"
            if let serverMessage = postgresServerMessage(error) { message += ": \(serverMessage)" }
            throw StoreError(code: .migrationFailed, message: message)
        }
        database.schemaReady.open()
        logger.info("database schema up to date", metadata: [
            "control_applied": "\(summary.control)",
            "tenants": "\(summary.tenants)",
            "tenants_upgraded": "\(summary.upgradedTenants)",
            "duration": "\(ContinuousClock.now - started)",
        ])
    }

    /// Applies pending control migrations, one transaction each. Returns how many ran.
    static func migrateControl(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let migrations = ControlMigrations.all
        try Migration.validate(migrations, label: "control")
        try await connection.query("CREATE SCHEMA IF NOT EXISTS control", logger: logger)
        try await SchemaMigrationLedger.ensureTable(quotedSchema: "control", on: connection, logger: logger)
        let applied = try await SchemaMigrationLedger.appliedVersions(quotedSchema: "control", on: connection, logger: logger)
        SchemaMigrationLedger.warnAboutUnknown(applied, known: migrations, schemaLabel: "control", logger: logger)
        var count = 0
        for migration in migrations where applied[migration.version] == nil {
            do {
                try await connection.withTransaction(logger: logger) { connection in
                    try await SchemaMigrationLedger.apply(
                        migration, quotedSchema: "control", schemaLabel: "control", on: connection, logger: logger
                    )
                }
            } catch {
                throw unwrapTransactionError(error)
            }
            count += 1
        }
        return count
    }

    /// Upgrades every tenant schema, one transaction per tenant.
    static func migrateTenants(on connection: PostgresConnection, logger: Logger) async throws -> (total: Int, upgraded: Int) {
        var scopes: [TenantScope] = []
        let rows = try await connection.query(
            "SELECT id, schema_name FROM control.tenants ORDER BY created_at, id", logger: logger
        )
        for try await (id, schemaName) in rows.decode((UUID, String).self) {
            let scope = TenantScope(tenantID: id)
            guard scope.schemaName == schemaName else {
                throw StoreError(
                    code: .migrationFailed,
                    message: "control.tenants row \(id.uuidString.lowercased()) names schema \(schemaName), expected \(scope.schemaName); fix the row before starting the server"
                )
            }
            scopes.append(scope)
        }
        let latest = TenantSchemaProvisioner.migrations.last?.version ?? 0
        var upgraded = 0
        for scope in scopes {
            do {
                try await connection.withTransaction(logger: logger) { connection in
                    try await TenantSchemaProvisioner.upgrade(scope, on: connection, logger: logger)
                }
            } catch {
                throw unwrapTransactionError(error)
            }
            upgraded += 1
        }
        if !scopes.isEmpty {
            logger.debug("tenant schemas checked", metadata: ["count": "\(scopes.count)", "latest_version": "\(latest)"])
        }
        return (scopes.count, upgraded)
    }
}
