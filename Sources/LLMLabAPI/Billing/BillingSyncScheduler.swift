public import Foundation
public import LLMLabBilling
import LLMLabCore
public import LLMLabSecurity
public import LLMLabStore
public import Logging
import PostgresNIO
public import ServiceLifecycle

/// Syncs every tenant's due billing connections: daily by default, hourly when asked,
/// each time re-pulling the last ``Configuration/lookbackDays`` days because providers
/// revise recent costs. A failed sync is retried after 5 minutes, doubling per
/// consecutive failure up to the connection's own interval (see ``BillingSync/nextSync``).
///
/// Due connections are claimed with a lease (next_sync_at moves forward in the claiming
/// transaction), so the provider call runs outside any transaction and a second server
/// does not pull the same connection at the same time. Outcomes are audited in the
/// tenant's log as `system:billing`.
public final class BillingSyncScheduler: Service, Sendable {
    public struct Configuration: Sendable {
        /// How often due connections are looked for.
        public var pollInterval: Duration = .seconds(60)
        /// Days re-pulled on each sync, today included.
        public var lookbackDays = 3
        /// How long a claimed connection is not handed out again (longer than a sync takes).
        public var lease: TimeInterval = 30 * 60
        /// Connections claimed per tenant and pass.
        public var batchSize = 10
        public var http: BillingHTTPClient.Configuration = .defaults
        /// See ``BillingSync/allowCustomEndpoints``.
        public var allowCustomEndpoints = false
        public static let defaults = Configuration()
        public init() {}
    }

    /// What one pass did.
    public struct Report: Sendable, Hashable {
        public var synced = 0
        public var failed = 0
        public var failedTenants = 0
    }

    public let configuration: Configuration
    let database: Database
    let sync: BillingSync
    let logger: Logger

    public init(database: Database, keyVault: KeyVault, configuration: Configuration = .defaults, logger: Logger,
                http: BillingHTTPClient? = nil) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.sync = BillingSync(database: database, keyVault: keyVault,
                                http: http ?? BillingHTTPClient(configuration: configuration.http), logger: logger,
                                allowCustomEndpoints: configuration.allowCustomEndpoints)
    }

    public func run() async throws {
        let interval = configuration.pollInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await self.runOnce()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass over every active tenant. A tenant that fails is logged and skipped.
    @discardableResult
    public func runOnce(now: Date = Date()) async -> Report {
        var report = Report()
        let logger = self.logger
        let tenants: [TenantRecord]
        do {
            tenants = try await database.withControlTransaction { connection in
                let repository = TenantRepository(connection, logger: logger)
                var result: [TenantRecord] = []
                for scope in try await repository.allScopes() {
                    if let tenant = try await repository.find(id: scope.tenantID), tenant.status == .active { result.append(tenant) }
                }
                return result
            }
        } catch {
            logger.warning("billing scheduler could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return report
        }
        let today = BillingDay(containing: now)
        let period = BillingPeriod(first: today.adding(days: -(max(1, configuration.lookbackDays) - 1)), last: today)
        for tenant in tenants {
            if Task.isCancelled { break }
            let due: [BillingConnectionRecord]
            do {
                let lease = now.addingTimeInterval(configuration.lease)
                let limit = configuration.batchSize
                due = try await database.withTenantTransaction(tenant.scope) { connection in
                    try await BillingRepository(connection, logger: logger).claimDue(now: now, leaseUntil: lease, limit: limit)
                }
            } catch {
                report.failedTenants += 1
                logger.warning("billing scheduler could not claim connections",
                               metadata: ["tenant": "\(tenant.scope)", "error": "\(String(reflecting: error))"])
                continue
            }
            for connection in due {
                if Task.isCancelled { break }
                do {
                    _ = try await sync.run(tenant: tenant, connection: connection, period: period, trigger: "scheduled",
                                           actor: "system:billing", now: now)
                    report.synced += 1
                } catch let error as BillingError {
                    report.failed += 1
                    logger.notice("billing sync failed", metadata: [
                        "tenant": "\(tenant.scope)", "connection": "\(connection.id)", "error": "\(error)"])
                } catch {
                    // Not recorded on the connection (the database failed): the lease expires and it is retried.
                    report.failed += 1
                    logger.warning("billing sync could not be recorded", metadata: [
                        "tenant": "\(tenant.scope)", "connection": "\(connection.id)", "error": "\(String(reflecting: error))"])
                }
            }
        }
        return report
    }
}
