import Foundation
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import Testing

@Suite("Migrator")
struct MigratorTests {
    @Test("control migrations apply once and re-running applies nothing")
    func idempotent() async throws {
        let test = try await TestPostgres.makeDatabase(label: "migrator_idempotent")
        do {
            // makeDatabase already migrated once; run twice more.
            try await Migrator(database: test.database, logger: Infra.logger).migrateAll()
            try await Migrator(database: test.database, logger: Infra.logger).migrateAll()
            let versions = try await test.database.withControlTransaction { connection in
                try await Infra.strings("SELECT version::text FROM control.schema_migrations ORDER BY version", on: connection)
            }
            #expect(versions == ControlMigrations.all.map { String($0.version) })
            let tables = try await test.database.withControlTransaction { connection in
                try await Infra.strings(
                    "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'control' ORDER BY tablename", on: connection
                )
            }
            #expect(tables.contains("tenants"))
            #expect(tables.contains("audit_events"))
            #expect(tables.contains("schema_migrations"))
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("concurrent migrators on one empty database take turns (advisory lock)")
    func concurrentMigrators() async throws {
        let test = try await TestPostgres.makeDatabase(label: "migrator_concurrent", migrate: false)
        // Separate pools, like separate servers starting together.
        let servers = (0..<4).map { _ in Database(configuration: test.configuration, logger: Infra.logger) }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for server in servers {
                    group.addTask { await server.run() }
                }
                try await withThrowingTaskGroup(of: Void.self) { migrations in
                    for server in servers {
                        migrations.addTask { try await Migrator(database: server, logger: Infra.logger).migrateAll() }
                    }
                    try await migrations.waitForAll()
                }
                group.cancelAll()
            }
            let rows = try await test.database.withControlTransaction { connection in
                try await Infra.strings(
                    "SELECT version::text || ':' || name FROM control.schema_migrations ORDER BY version", on: connection
                )
            }
            #expect(rows == ControlMigrations.all.map { "\($0.version):\($0.name)" })
            // The lock was released: a later run gets it at once.
            try await Migrator(database: test.database, logger: Infra.logger).migrateAll()
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("the migrator upgrades tenant schemas listed in control.tenants")
    func upgradesTenants() async throws {
        let test = try await TestPostgres.makeDatabase(label: "migrator_tenants")
        do {
            // A tenant row whose schema exists but was never migrated and whose role is gone
            // (e.g. restored from a dump without roles).
            let scope = TenantScope(tenantID: UUID())
            try await test.database.withControlTransaction { connection in
                try await Infra.insertTenantRow(scope, on: connection)
                try await connection.query("CREATE SCHEMA \(unescaped: "\"\(scope.schemaName)\"")", logger: Infra.logger)
            }
            try await Migrator(database: test.database, logger: Infra.logger).migrateAll()

            #expect(try await Infra.roleExists(scope, in: test.database))
            let versions = try await test.database.withControlTransaction { connection in
                try await Infra.strings(
                    PostgresQuery(unsafeSQL: "SELECT version::text FROM \"\(scope.schemaName)\".schema_migrations ORDER BY version::int"),
                    on: connection
                )
            }
            #expect(versions == TenantSchemaProvisioner.migrations.map { String($0.version) })
            // The tenant role works: it can use its own tables.
            let projects = try await test.database.withTenantTransaction(scope) { connection in
                try await Infra.count("SELECT count(*) FROM projects", on: connection)
            }
            #expect(projects == 0)

            // Running again changes nothing.
            try await Migrator(database: test.database, logger: Infra.logger).migrateAll()
            let again = try await test.database.withControlTransaction { connection in
                try await Infra.count(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM \"\(scope.schemaName)\".schema_migrations"), on: connection
                )
            }
            #expect(again == TenantSchemaProvisioner.migrations.count)
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }
}
