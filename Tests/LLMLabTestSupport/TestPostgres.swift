import Foundation
import LLMLabStore
import Logging
import PostgresNIO

/// Real PostgreSQL for integration tests, never a mock: one throw-away cluster per test
/// process, started lazily on first use and shared by every suite, with one fresh database
/// per suite or test.
///
/// The cluster lives in `/tmp/llmlab-test-XXXXXX` (no fsync) and is stopped and deleted by
/// a watchdog when the test process exits, even if it crashes, so no `postgres` survives the
/// run. Set `LLMLAB_TEST_DATABASE_URL` (a role that may CREATE DATABASE and CREATEROLE) to
/// use an existing server instead.
public enum TestPostgres {
    /// Creates a database with a unique name derived from `label`, owned by the application
    /// role, runs the control migrations in it, and returns it with its pool already running.
    /// Call ``TestDatabase/shutdown()`` at the end.
    ///
    /// - Parameter migrate: `false` leaves the database empty (for testing the migrator itself).
    public static func makeDatabase(label: String, migrate: Bool = true) async throws -> TestDatabase {
        let server = try await sharedServer.value
        let name = databaseName(for: label)
        let logger = testLogger(label)
        try await server.admin.withStandaloneConnection(logger: logger) { connection in
            _ = try await connection.query(
                "CREATE DATABASE \(unescaped: quoted(name)) OWNER \(unescaped: quoted(server.owner))", logger: logger
            )
        }
        var configuration = server.application
        configuration.database = name
        configuration.maxConnections = 4
        let database = Database(configuration: configuration, logger: logger)
        let runTask = Task { await database.run() }
        let testDatabase = TestDatabase(
            database: database,
            configuration: configuration,
            adminConfiguration: server.admin,
            name: name,
            runTask: runTask,
            logger: logger
        )
        do {
            if migrate {
                try await Migrator(database: database, logger: logger).migrateAll()
            }
        } catch {
            await testDatabase.shutdown()
            throw error
        }
        return testDatabase
    }

    /// How tests reach the shared server: as its administrator (to create databases) and as
    /// the application role (what the server itself uses).
    struct Server: Sendable {
        var admin: DatabaseConfiguration
        var application: DatabaseConfiguration
        var owner: String
    }

    static let sharedServer = Task<Server, any Error> {
        try await startServer()
    }

    static func startServer() async throws -> Server {
        let logger = testLogger("cluster")
        if let url = ProcessInfo.processInfo.environment["LLMLAB_TEST_DATABASE_URL"], !url.isEmpty {
            let configuration = try DatabaseConfiguration.parse(url: url)
            var admin = configuration
            admin.maxConnections = 1
            return Server(admin: admin, application: configuration, owner: configuration.username)
        }
        var template = Array("/tmp/llmlab-test-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw StoreError(code: .unavailable, message: "cannot create a temporary directory for the test cluster")
        }
        let base = String(cString: created)
        // mkdtemp makes it 0700; the cluster's user (postgres, when tests run as root) must traverse it.
        chmod(base, 0o755)
        var configuration = EmbeddedPostgres.Configuration(
            dataDirectory: base + "/data",
            socketDirectory: base + "/run",
            logFile: base + "/postgres.log"
        )
        configuration.durable = false
        configuration.stopsWhenProcessExits = true
        configuration.deletesWhenProcessExits = true
        configuration.relocationDirectory = base + "/relocated"
        configuration.settings = ["max_connections": "300", "shared_buffers": "'32MB'"]
        let cluster = EmbeddedPostgres(configuration: configuration, logger: logger)
        let application = try await cluster.start()
        return Server(
            admin: cluster.superuserConfiguration(sharingSocketWith: application),
            application: application,
            owner: configuration.applicationRole
        )
    }

    /// `llmlab_test_<label>_<random>`, at most 63 bytes, only [a-z0-9_].
    static func databaseName(for label: String) -> String {
        let cleaned = String(label.lowercased().map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber) ? character : "_"
        }.prefix(32))
        let random = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(10)
        return "llmlab_test_\(cleaned)_\(random)"
    }

    static func testLogger(_ label: String) -> Logger {
        var logger = Logger(label: "llmlab.test.\(label)")
        logger.logLevel = ProcessInfo.processInfo.environment["LLMLAB_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }
}

func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
