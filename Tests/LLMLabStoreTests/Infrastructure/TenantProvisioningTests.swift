import Foundation
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import Testing

@Suite("Tenant provisioning")
struct TenantProvisioningTests {
    @Test("provision creates the role, the schema, the tables and records the versions")
    func provisionCreatesEverything() async throws {
        let test = try await TestPostgres.makeDatabase(label: "provision_creates")
        do {
            let scope = try await Infra.createTenant(in: test.database)
            #expect(try await Infra.schemaExists(scope, in: test.database))
            #expect(try await Infra.roleExists(scope, in: test.database))
            let (tables, versions, owner, canLogin) = try await test.database.withControlTransaction { connection in
                let tables = try await Infra.strings(
                    "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = \(scope.schemaName) ORDER BY tablename",
                    on: connection
                )
                let versions = try await Infra.strings(
                    PostgresQuery(unsafeSQL: "SELECT version::text FROM \"\(scope.schemaName)\".schema_migrations ORDER BY version::int"),
                    on: connection
                )
                let owner = try await Infra.strings(
                    "SELECT pg_catalog.pg_get_userbyid(nspowner)::text FROM pg_catalog.pg_namespace WHERE nspname = \(scope.schemaName)",
                    on: connection
                )
                let canLogin = try await Infra.strings(
                    "SELECT rolcanlogin::text FROM pg_catalog.pg_roles WHERE rolname = \(scope.roleName)", on: connection
                )
                return (tables, versions, owner, canLogin)
            }
            #expect(tables.contains("projects"))
            #expect(tables.contains("provider_keys"))
            #expect(tables.contains("audit_events"))
            #expect(tables.contains("schema_migrations"))
            #expect(versions == TenantSchemaProvisioner.migrations.map { String($0.version) })
            #expect(owner == [test.configuration.username])  // owned by the login role, not the tenant role
            #expect(canLogin == ["false"])
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("a failing transaction leaves no schema and no role behind")
    func rollbackIsComplete() async throws {
        let test = try await TestPostgres.makeDatabase(label: "provision_rollback")
        do {
            let scope = TenantScope(tenantID: UUID())
            await #expect(throws: ExpectedFailure.self) {
                try await test.database.withControlTransaction { connection in
                    try await Infra.insertTenantRow(scope, on: connection)
                    try await TenantSchemaProvisioner.provision(scope, on: connection, logger: Infra.logger)
                    throw ExpectedFailure()
                }
            }
            #expect(try await Infra.schemaExists(scope, in: test.database) == false)
            #expect(try await Infra.roleExists(scope, in: test.database) == false)
            let rows = try await test.database.withControlTransaction { connection in
                try await Infra.count("SELECT count(*) FROM control.tenants WHERE id = \(scope.tenantID)", on: connection)
            }
            #expect(rows == 0)
            // The same scope can be provisioned afterwards.
            try await test.database.withControlTransaction { connection in
                try await TenantSchemaProvisioner.provision(scope, on: connection, logger: Infra.logger)
            }
            #expect(try await Infra.schemaExists(scope, in: test.database))
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("provisioning an existing tenant is a conflict")
    func provisionTwiceConflicts() async throws {
        let test = try await TestPostgres.makeDatabase(label: "provision_twice")
        do {
            let scope = try await Infra.createTenant(in: test.database)
            let error = await #expect(throws: StoreError.self) {
                try await test.database.withControlTransaction { connection in
                    try await TenantSchemaProvisioner.provision(scope, on: connection, logger: Infra.logger)
                }
            }
            #expect(error?.code == .conflict)
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("drop removes the schema and the role; upgrade of a live tenant is a no-op")
    func dropRemovesEverything() async throws {
        let test = try await TestPostgres.makeDatabase(label: "provision_drop")
        do {
            let scope = try await Infra.createTenant(in: test.database)
            try await test.database.withControlTransaction { connection in
                try await TenantSchemaProvisioner.upgrade(scope, on: connection, logger: Infra.logger)
            }
            try await test.database.withTenantTransaction(scope) { connection in
                _ = try await connection.query(
                    "INSERT INTO projects (id, name) VALUES (\(UUID()), 'p')", logger: Infra.logger
                )
            }
            try await test.database.withControlTransaction { connection in
                try await TenantSchemaProvisioner.drop(scope, on: connection, logger: Infra.logger)
            }
            #expect(try await Infra.schemaExists(scope, in: test.database) == false)
            #expect(try await Infra.roleExists(scope, in: test.database) == false)
            // Dropping again is harmless.
            try await test.database.withControlTransaction { connection in
                try await TenantSchemaProvisioner.drop(scope, on: connection, logger: Infra.logger)
            }
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }
}
