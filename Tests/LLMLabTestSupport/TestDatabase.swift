public import LLMLabStore
import Logging
import PostgresNIO

/// One test's private database on the shared test server, with a running ``Database``.
public final class TestDatabase: Sendable {
    public let database: Database
    /// How to connect as the application role (what the server uses).
    public let configuration: DatabaseConfiguration
    /// How to connect as the server's administrator (superuser of the embedded test cluster).
    public let adminConfiguration: DatabaseConfiguration
    /// The database's name.
    public let name: String
    let runTask: Task<Void, Never>
    let logger: Logger

    init(
        database: Database,
        configuration: DatabaseConfiguration,
        adminConfiguration: DatabaseConfiguration,
        name: String,
        runTask: Task<Void, Never>,
        logger: Logger
    ) {
        self.database = database
        self.configuration = configuration
        self.adminConfiguration = adminConfiguration
        self.name = name
        self.runTask = runTask
        self.logger = logger
    }

    /// Stops the pool, drops the database and the tenant roles created in it (roles are
    /// cluster-wide). Best effort: cleanup failures are logged, not thrown.
    public func shutdown() async {
        self.runTask.cancel()
        await self.runTask.value
        let logger = self.logger
        let name = self.name
        do {
            var tenantRoles: [String] = []
            var inDatabase = self.adminConfiguration
            inDatabase.database = name
            try await inDatabase.withStandaloneConnection(logger: logger) { connection in
                let rows = try await connection.query(
                    "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname ~ '^t_[0-9a-f]{32}$'", logger: logger
                )
                for try await schema in rows.decode(String.self) {
                    if let scope = TenantScope(schemaName: schema) { tenantRoles.append(scope.roleName) }
                }
            }
            let roles = tenantRoles
            try await self.adminConfiguration.withStandaloneConnection(logger: logger) { connection in
                try await connection.query("DROP DATABASE IF EXISTS \(unescaped: quoted(name)) WITH (FORCE)", logger: logger)
                for role in roles {
                    try await connection.query("DROP ROLE IF EXISTS \(unescaped: quoted(role))", logger: logger)
                }
            }
        } catch {
            logger.warning("could not clean up test database", metadata: ["database": "\(name)", "error": "\(String(reflecting: error))"])
        }
    }
}
