import Foundation
@testable import LLMLabStore
import LLMLabTenantSchema
import Testing

/// The migration lists are written by hand (SwiftPM's embedded resources cannot be
/// enumerated); these tests keep them in step with the SQL files on disk.
@Suite("Migration registry")
struct MigrationRegistryTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Infrastructure
        .deletingLastPathComponent()  // LLMLabStoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func sqlFiles(_ relativeDirectory: String) throws -> [(version: Int, name: String, sql: String)] {
        let directory = repositoryRoot.appendingPathComponent(relativeDirectory)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
            .map { file in
                let parsed = try #require(Migration.parseFileName(file), "\(relativeDirectory)/\(file) is not NNNN_name.sql")
                let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                return (parsed.version, parsed.name, sql)
            }
    }

    @Test("every control migration file is registered, in order, with its content")
    func controlMigrations() throws {
        let files = try Self.sqlFiles("Sources/LLMLabStore/ControlMigrations")
        #expect(files.map(\.version) == ControlMigrations.all.map(\.version))
        #expect(files.map(\.name) == ControlMigrations.all.map(\.name))
        #expect(files.map(\.sql) == ControlMigrations.all.map(\.sql))
    }

    @Test("every tenant migration file is registered, in order, with its content")
    func tenantMigrations() throws {
        let files = try Self.sqlFiles("tenants/migrations")
        #expect(files.map(\.version) == TenantSchema.migrations.map(\.version))
        #expect(files.map(\.name) == TenantSchema.migrations.map(\.name))
        #expect(files.map(\.sql) == TenantSchema.migrations.map(\.sql))
        #expect(Set(files.map(\.version)).count == files.count)
    }

    @Test("file names parse")
    func fileNames() {
        #expect(Migration.parseFileName("0001_init.sql")! == (1, "init"))
        #expect(Migration.parseFileName("0012_add_things.sql")! == (12, "add_things"))
        #expect(Migration.parseFileName("init.sql") == nil)
        #expect(Migration.parseFileName("0001_init.txt") == nil)
        #expect(Migration.parseFileName("0000_zero.sql") == nil)
    }
}

@Suite("Tenant scope")
struct TenantScopeTests {
    @Test("names are derived from the id only")
    func names() throws {
        let id = try #require(UUID(uuidString: "0A1B2C3D-4E5F-6789-ABCD-EF0123456789"))
        let scope = TenantScope(tenantID: id)
        #expect(scope.schemaName == "t_0a1b2c3d4e5f6789abcdef0123456789")
        #expect(scope.roleName == "llmlab_t_0a1b2c3d4e5f6789abcdef0123456789")
        #expect(TenantScope(schemaName: scope.schemaName) == scope)
        #expect(TenantScope(schemaName: "t_0A1B2C3D4E5F6789ABCDEF0123456789") == nil)
        #expect(TenantScope(schemaName: "t_x; DROP SCHEMA control") == nil)
        #expect(TenantScope(schemaName: "public") == nil)
    }
}
