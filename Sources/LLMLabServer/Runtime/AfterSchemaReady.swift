import LLMLabStore
import ServiceLifecycle

/// Starts a background job only once the migrator has brought every schema up to date
/// (``Database/schemaReady``): on a fresh install the jobs would otherwise query tables that
/// do not exist yet and log alarming errors. Shutting down before then skips the job.
struct AfterSchemaReady: Service {
    let database: Database
    let job: any Service

    init(_ job: any Service, database: Database) {
        self.job = job
        self.database = database
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await database.schemaReady.wait() }
        guard database.schemaReady.isOpen, !Task.isCancelled else { return }
        try await job.run()
    }
}
