public import Logging
public import PostgresNIO
public import ServiceLifecycle

/// The server's one connection pool and the only way request code gets a connection:
/// every unit of work is a transaction that is either control-scoped or tenant-scoped.
///
/// Tenant transactions drop to the tenant's role and schema before any user code runs
/// (see ``withTenantTransaction(_:_:)``), so a query that forgets to scope itself sees
/// nothing of another tenant instead of leaking it.
///
/// A `Service`: put it first in the `ServiceGroup` so it stops last.
public final class Database: Sendable, Service {
    public let client: PostgresClient
    public let configuration: DatabaseConfiguration
    /// Bumped after configuration changes, so in-process caches reload (``ChangeSignal``).
    public let changes = ChangeSignal()
    /// Opened by ``Migrator/migrateAll()`` once every schema is current; background jobs
    /// wait on it before their first pass.
    public let schemaReady = ReadinessGate()
    let logger: Logger

    public init(configuration: DatabaseConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.client = PostgresClient(
            configuration: configuration.makeClientConfiguration(),
            backgroundLogger: logger
        )
    }

    /// Runs the pool until the task is cancelled (or the service group shuts down).
    /// Call exactly once; nothing can lease a connection unless this is running.
    public func run() async {
        await self.client.run()
    }

    /// Runs `body` in one transaction on the login role with the default search path, for
    /// work on the `control` schema. Qualify names (`control.tenants`).
    ///
    /// Commits when `body` returns, rolls back when it throws. Errors come out as thrown by
    /// `body` (not wrapped in `PostgresTransactionError`); a failing BEGIN / COMMIT comes out
    /// as its `PSQLError`.
    public func withControlTransaction<R: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> R
    ) async throws -> R {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(connection)
            }
        } catch {
            throw unwrapTransactionError(error)
        }
    }

    /// Runs `body` in one transaction scoped to a tenant. Before `body` runs, the transaction
    /// switches to the tenant's role (the equivalent of `SET LOCAL ROLE "<roleName>"`) and
    /// sets `search_path` to the tenant schema only, both transaction-local
    /// (`set_config(..., true)`, one round trip), so pooled connections never carry them
    /// to the next tenant. Unqualified names resolve to the tenant's tables; the connection
    /// holds only the tenant role's privileges (no other schema, no `control`, no DDL, no
    /// UPDATE/DELETE on `audit_events`).
    ///
    /// Errors as in ``withControlTransaction(_:)``.
    public func withTenantTransaction<R: Sendable>(
        _ scope: TenantScope,
        _ body: @Sendable (PostgresConnection) async throws -> R
    ) async throws -> R {
        let logger = self.logger
        do {
            return try await self.client.withTransaction(logger: logger) { connection in
                try await Self.enterTenantScope(scope, on: connection, logger: logger)
                return try await body(connection)
            }
        } catch {
            throw unwrapTransactionError(error)
        }
    }

    /// Switches an open transaction to the tenant's role and search path (transaction-local).
    static func enterTenantScope(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT set_config('role', \(scope.roleName), true), set_config('search_path', \(scope.quotedSchema), true)",
            logger: logger
        )
    }
}
