import Foundation
import LLMLabStore
import Logging
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Embedded PostgreSQL", .serialized)
struct EmbeddedPostgresTests {
    /// A throw-away configuration under `home`; the watchdog removes everything if the test
    /// process dies before the test cleans up.
    static func configuration(home: String, relocation: String) -> EmbeddedPostgres.Configuration {
        var configuration = EmbeddedPostgres.Configuration.defaults(home: home)
        configuration.durable = false
        configuration.stopsWhenProcessExits = true
        configuration.deletesWhenProcessExits = true
        configuration.relocationDirectory = relocation
        configuration.settings = ["shared_buffers": "'16MB'", "max_connections": "20"]
        return configuration
    }

    static func makeTemporaryDirectory(under parent: String, mode: mode_t) throws -> String {
        var template = Array("\(parent)/llmlab-embedded-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw ExpectedFailure() }
        let path = String(cString: created)
        chmod(path, mode)
        return path
    }

    struct QueryFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `sql` on a fresh connection; failures carry PostgresNIO's full (debug) description.
    static func query(_ configuration: DatabaseConfiguration, _ sql: String) async throws -> [String] {
        do {
            return try await configuration.withStandaloneConnection(logger: Infra.logger) { connection in
                try await Infra.strings(PostgresQuery(unsafeSQL: sql), on: connection)
            }
        } catch {
            throw QueryFailed(description: "\(sql): \(String(reflecting: error))")
        }
    }

    /// Runs `body`; whatever happens, stops the cluster before deleting its directories
    /// (deleting a running cluster's data would leave the watchdog nothing to stop).
    static func cleaningUp(_ cluster: EmbeddedPostgres, paths: [String], _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            try? await cluster.stop()
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        try await cluster.stop()
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("start, connect as the application role, stop, start again on the same data, stop")
    func lifecycle() async throws {
        let home = try Self.makeTemporaryDirectory(under: "/tmp", mode: 0o755)
        let configuration = Self.configuration(home: home, relocation: home + "/relocated")
        let cluster = EmbeddedPostgres(configuration: configuration, logger: Infra.logger)
        try await Self.cleaningUp(cluster, paths: [home]) {
            try await Self.checkLifecycle(cluster, home: home)
        }
    }

    static func checkLifecycle(_ cluster: EmbeddedPostgres, home: String) async throws {
        let database = try await cluster.start()
        #expect(database.unixSocketPath == home + "/pg/run/.s.PGSQL.5432")
        #expect(database.username == "llmlab")
        #expect(database.database == "llmlab")
        #expect(try await Self.query(database, "SELECT current_user::text") == ["llmlab"])
        #expect(try await Self.query(database, "SELECT rolsuper::text || rolcreaterole::text || rolinherit::text FROM pg_roles WHERE rolname = current_user") == ["falsetruefalse"])
        #expect(try await Self.query(database, "SELECT current_setting('listen_addresses')") == [""])
        #expect(try await Self.query(database, "SELECT pg_encoding_to_char(encoding)::text FROM pg_database WHERE datname = current_database()") == ["UTF8"])
        // The application role owns the database (so it may create schemas) but, being
        // NOINHERIT, not the `public` schema (owned by pg_database_owner): the server never uses it.
        _ = try await Self.query(database, "CREATE SCHEMA app")
        _ = try await Self.query(database, "CREATE TABLE app.kept (v text)")
        _ = try await Self.query(database, "INSERT INTO app.kept VALUES ('survives restart')")

        // Private socket directory; as root, everything belongs to the cluster user.
        let socketAttributes = try FileManager.default.attributesOfItem(atPath: home + "/pg/run")
        #expect((socketAttributes[.posixPermissions] as? Int) == 0o700)
        if geteuid() == 0 {
            let postgres = try #require(getpwnam("postgres"))
            let dataAttributes = try FileManager.default.attributesOfItem(atPath: home + "/pg/data")
            #expect((dataAttributes[.ownerAccountID] as? Int) == Int(postgres.pointee.pw_uid))
        }

        // Starting a running cluster is a no-op.
        #expect(try await cluster.start() == database)

        try await cluster.stop()
        #expect(!FileManager.default.fileExists(atPath: home + "/pg/data/postmaster.pid"))
        await #expect(throws: QueryFailed.self) { try await Self.query(database, "SELECT 1") }
        try await cluster.stop()  // stopping a stopped cluster is fine

        let again = try await cluster.start()
        #expect(again == database)
        #expect(try await Self.query(again, "SELECT v FROM app.kept") == ["survives restart"])

        // A crash leaves postmaster.pid behind; its PID may since belong to another process.
        try await cluster.stop()
        let stalePID = "\(getpid())\n\(home)/pg/data\n1700000000\n5432\n\(home)/pg/run\n\n  5432001         0\nready   \n"
        try stalePID.write(toFile: home + "/pg/data/postmaster.pid", atomically: true, encoding: .utf8)
        let afterCrash = try await cluster.start()
        #expect(try await Self.query(afterCrash, "SELECT v FROM app.kept") == ["survives restart"])
        try await cluster.stop()
    }

    @Test("as root with LLMLAB_HOME under /root, the cluster moves where its user can reach it")
    func relocatesFromUnreachableHome() async throws {
        try #require(geteuid() == 0, "only meaningful when the tests run as root")
        let rootParent = try Self.makeTemporaryDirectory(under: "/root", mode: 0o700)
        let relocation = try Self.makeTemporaryDirectory(under: "/tmp", mode: 0o755)
        let home = rootParent + "/home"
        let configuration = Self.configuration(home: home, relocation: relocation)
        let cluster = EmbeddedPostgres(configuration: configuration, logger: Infra.logger)
        try await Self.cleaningUp(cluster, paths: [rootParent, relocation]) {
            try await Self.checkRelocation(cluster, home: home, rootParent: rootParent, relocation: relocation)
        }
    }

    static func checkRelocation(_ cluster: EmbeddedPostgres, home: String, rootParent: String, relocation: String) async throws {
        let database = try await cluster.start()
        let socket = try #require(database.unixSocketPath)
        #expect(socket.hasPrefix(relocation + "/pg-"))
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: home + "/pg/data")
        #expect(link.hasPrefix(relocation + "/pg-"))
        #expect(link.hasSuffix("/data"))
        // /root was not opened up.
        let rootMode = try FileManager.default.attributesOfItem(atPath: rootParent)[.posixPermissions] as? Int
        #expect(rootMode == 0o700)
        #expect(try await Self.query(database, "SELECT current_user::text") == ["llmlab"])
        _ = try await Self.query(database, "CREATE SCHEMA app")
        _ = try await Self.query(database, "CREATE TABLE app.kept (v int)")
        try await cluster.stop()

        // The second start follows the symlink to the same cluster.
        let again = try await cluster.start()
        #expect(again == database)
        #expect(try await Self.query(again, "SELECT count(*)::text FROM app.kept") == ["0"])
        try await cluster.stop()
    }

    @Test("missing server binaries name the Debian package")
    func missingBinaries() async throws {
        let empty = try Self.makeTemporaryDirectory(under: "/tmp", mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        var configuration = Self.configuration(home: empty + "/home", relocation: empty + "/relocated")
        configuration.binaryDirectory = empty
        let cluster = EmbeddedPostgres(configuration: configuration, logger: Infra.logger)
        let error = await #expect(throws: StoreError.self) { _ = try await cluster.start() }
        #expect(error?.message.contains(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package 'postgresql' (apt-get install postgresql) or set LLMLAB_DATABASE_URL"
        ) == true)
        #expect(!FileManager.default.fileExists(atPath: empty + "/home/pg/data/PG_VERSION"))
    }
}
