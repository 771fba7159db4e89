import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabStore
import Logging
import ServiceLifecycle

/// Brings the control plane up in order — schema migrations (all tenants too), the
/// operator credential — then serves gRPC until graceful shutdown.
struct ControlPlaneService: Service {
    let database: Database
    let server: GRPCServerService
    let operatorTokenFile: String
    let logger: Logger

    func run() async throws {
        try await Migrator(database: database, logger: logger).migrateAll()
        try await OperatorBootstrap.ensure(database: database, tokenFile: operatorTokenFile, logger: logger)
        try await server.run()
    }
}

/// Deletes expired sessions every few minutes so the table does not grow without bound.
struct SessionJanitor: Service {
    let database: Database
    let logger: Logger
    var interval: Duration = .seconds(600)

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return  // cancelled: the server is shutting down
                }
                do {
                    try await database.withControlTransaction { connection in
                        try await SessionRepository(connection, logger: logger).deleteExpired()
                    }
                } catch {
                    logger.warning("could not delete expired sessions; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
