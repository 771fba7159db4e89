import Foundation
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import Testing

@Suite("Tenant isolation")
struct TenantIsolationTests {
    @Test("a tenant transaction runs as the tenant role with only the tenant schema on the path")
    func scopeIsApplied() async throws {
        let test = try await TestPostgres.makeDatabase(label: "isolation_scope")
        do {
            let scope = try await Infra.createTenant(in: test.database)
            let (user, path) = try await test.database.withTenantTransaction(scope) { connection in
                let user = try await Infra.strings("SELECT current_user::text", on: connection)
                let path = try await Infra.strings("SELECT current_setting('search_path')", on: connection)
                return (user, path)
            }
            #expect(user == [scope.roleName])
            #expect(path == ["\"\(scope.schemaName)\""] || path == [scope.schemaName])
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("another tenant's schema and the control schema are out of reach")
    func crossTenantAccessIsDenied() async throws {
        let test = try await TestPostgres.makeDatabase(label: "isolation_cross")
        do {
            let tenantA = try await Infra.createTenant(in: test.database)
            let tenantB = try await Infra.createTenant(in: test.database)
            try await test.database.withTenantTransaction(tenantB) { connection in
                _ = try await connection.query("INSERT INTO projects (id, name) VALUES (\(UUID()), 'secret-b')", logger: Infra.logger)
            }

            // Unqualified names see only A's rows.
            let visible = try await test.database.withTenantTransaction(tenantA) { connection in
                try await Infra.count("SELECT count(*) FROM projects", on: connection)
            }
            #expect(visible == 0)

            for sql in [
                "SELECT * FROM \"\(tenantB.schemaName)\".projects",
                "INSERT INTO \"\(tenantB.schemaName)\".projects (id, name) VALUES (gen_random_uuid(), 'x')",
                "SELECT * FROM control.tenants",
                "CREATE TABLE sneaky (id int)",
            ] {
                let error = await #expect(throws: (any Error).self, "\(sql)") {
                    try await test.database.withTenantTransaction(tenantA) { connection in
                        _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Infra.logger)
                    }
                }
                #expect(error.map(isPermissionDenied) == true, "\(sql) should be denied, got \(error.map { String(reflecting: $0) } ?? "nothing")")
            }
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("audit rows: the tenant role may insert and read, never update, delete or truncate")
    func auditIsAppendOnly() async throws {
        let test = try await TestPostgres.makeDatabase(label: "isolation_audit")
        do {
            let scope = try await Infra.createTenant(in: test.database)
            try await test.database.withTenantTransaction(scope) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO audit_events (seq, occurred_at, actor, action, target, request_id, outcome, detail, prev_hash, hash)
                    VALUES (1, now(), 'user:a', 'project.create', 'project:p', 'req-1', 'ok', '', '', 'h1')
                    """,
                    logger: Infra.logger
                )
            }
            let rows = try await test.database.withTenantTransaction(scope) { connection in
                try await Infra.count("SELECT count(*) FROM audit_events", on: connection)
            }
            #expect(rows == 1)
            for sql in [
                "UPDATE audit_events SET outcome = 'denied'",
                "DELETE FROM audit_events",
                "TRUNCATE audit_events",
                "DELETE FROM schema_migrations",
            ] {
                let error = await #expect(throws: (any Error).self, "\(sql)") {
                    try await test.database.withTenantTransaction(scope) { connection in
                        _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Infra.logger)
                    }
                }
                #expect(error.map(isPermissionDenied) == true, "\(sql) should be denied, got \(error.map { String(reflecting: $0) } ?? "nothing")")
            }
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    @Test("the tenant role and search path do not leak to the next transaction on the same connection")
    func noLeakAcrossTransactions() async throws {
        let test = try await TestPostgres.makeDatabase(label: "isolation_leak")
        var single = test.configuration
        single.maxConnections = 1
        let database = Database(configuration: single, logger: Infra.logger)
        let runTask = Task { await database.run() }
        do {
            let scope = try await Infra.createTenant(in: test.database)
            _ = try await database.withTenantTransaction(scope) { connection in
                try await Infra.count("SELECT count(*) FROM projects", on: connection)
            }
            // A failed tenant transaction must not leak either.
            await #expect(throws: ExpectedFailure.self) {
                try await database.withTenantTransaction(scope) { _ in throw ExpectedFailure() }
            }
            let (user, path) = try await database.withControlTransaction { connection in
                let user = try await Infra.strings("SELECT current_user::text", on: connection)
                let path = try await Infra.strings("SELECT current_setting('search_path')", on: connection)
                return (user, path)
            }
            #expect(user == [single.username])
            #expect(path.first?.contains(scope.schemaName) == false)
        } catch {
            runTask.cancel()
            await test.shutdown()
            throw error
        }
        runTask.cancel()
        await runTask.value
        await test.shutdown()
    }

    @Test("transaction errors come out unwrapped and classify")
    func errorsAreUnwrapped() async throws {
        let test = try await TestPostgres.makeDatabase(label: "errors_unwrapped")
        do {
            let scope = try await Infra.createTenant(in: test.database)
            let duplicate = await #expect(throws: (any Error).self) {
                try await test.database.withControlTransaction { connection in
                    try await Infra.insertTenantRow(scope, on: connection)  // same id and slug again
                }
            }
            #expect(duplicate.map(isUniqueViolation) == true)
            #expect(duplicate.map { $0 is PostgresTransactionError } == false)

            let missingParent = await #expect(throws: (any Error).self) {
                try await test.database.withTenantTransaction(scope) { connection in
                    _ = try await connection.query(
                        """
                        INSERT INTO provider_keys (id, project_id, provider, name, sealed_secret, last_four)
                        VALUES (\(UUID()), \(UUID()), 'openai', 'k', '\\x00'::bytea, '1234')
                        """,
                        logger: Infra.logger
                    )
                }
            }
            #expect(missingParent.map(isForeignKeyViolation) == true)
            #expect(missingParent.map(isConnectionFailure) == false)
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }
}
