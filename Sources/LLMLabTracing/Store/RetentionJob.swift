public import Foundation
public import LLMLabStore
public import Logging
public import ServiceLifecycle

/// Deletes traces (and their spans) older than their project's retention
/// (`projects.trace_retention_days`, default 30), in every tenant schema, every
/// ``Configuration/interval``.
///
/// Work is cut into small transactions of at most ``Configuration/batchSize`` traces that
/// skip rows a writer holds (`FOR UPDATE SKIP LOCKED`), so ingest never waits behind it for
/// more than one short batch, and a pause between batches leaves the database room.
public final class RetentionJob: Service, Sendable {
    public struct Configuration: Sendable {
        public var interval: Duration = .seconds(3600)
        /// Traces per delete transaction.
        public var batchSize: Int = 500
        /// Pause between two batches of the same tenant.
        public var pauseBetweenBatches: Duration = .milliseconds(20)
        /// Most batches per tenant per run, so one huge tenant cannot starve the others
        /// (the rest goes next run).
        public var maxBatchesPerTenant: Int = 200

        public init() {}
    }

    /// What one run deleted.
    public struct Report: Sendable, Hashable {
        public var tenants = 0
        public var traces = 0
        public var spans = 0
        public var failedTenants = 0
    }

    public let configuration: Configuration
    let database: Database
    let logger: Logger
    /// The clock the job reads "now" from (tests move it).
    let now: @Sendable () -> Date

    public init(database: Database, configuration: Configuration = .init(), logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        let interval = configuration.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await self.runOnce()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass over every tenant. A tenant that fails (schema gone, database down) is
    /// logged and skipped; the next run tries again.
    @discardableResult
    public func runOnce() async -> Report {
        var report = Report()
        let scopes: [TenantScope]
        do {
            let logger = self.logger
            scopes = try await database.withControlTransaction { connection in
                try await TenantRepository(connection, logger: logger).allScopes()
            }
        } catch {
            logger.warning("trace retention could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return report
        }
        for scope in scopes {
            if Task.isCancelled { break }
            do {
                let (traces, spans) = try await purge(scope)
                report.tenants += 1
                report.traces += traces
                report.spans += spans
            } catch {
                report.failedTenants += 1
                logger.warning("trace retention failed for a tenant",
                               metadata: ["tenant": "\(scope)", "error": "\(String(reflecting: error))"])
            }
        }
        if report.traces > 0 {
            logger.info("trace retention deleted expired traces",
                        metadata: ["traces": "\(report.traces)", "spans": "\(report.spans)", "tenants": "\(report.tenants)"])
        }
        return report
    }

    /// Deletes one tenant's expired traces, batch by batch, each in its own transaction.
    public func purge(_ scope: TenantScope) async throws -> (traces: Int, spans: Int) {
        let logger = self.logger
        let now = self.now()
        let batchSize = configuration.batchSize
        var total = (traces: 0, spans: 0)
        for _ in 0..<max(1, configuration.maxBatchesPerTenant) {
            let deleted = try await database.withTenantTransaction(scope) { connection in
                try await SpanRepository(connection, logger: logger).deleteExpired(now: now, batchSize: batchSize)
            }
            total.traces += deleted.traces
            total.spans += deleted.spans
            if deleted.traces < batchSize || Task.isCancelled { break }
            try? await Task.sleep(for: configuration.pauseBetweenBatches)
        }
        return total
    }
}
