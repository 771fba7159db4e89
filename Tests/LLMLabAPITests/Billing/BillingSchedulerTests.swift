import Foundation
import GRPCCore
import LLMLabAPI
import LLMLabBilling
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

/// The scheduler against a real database: due connections are pulled (the last 3 days),
/// successes wait for the schedule, failures back off, and nothing runs before it is due.
@Suite("Billing scheduler")
struct BillingSchedulerTests {
    @Test("due connections sync; success waits a day, failure backs off 5 then 10 minutes")
    func schedule() async throws {
        let fake = FakeProviderBilling(BillingServiceTests.openAICosts)
        try await fake.serving { base in
            try await TestControlPlane.with { cp in
                let a = try await cp.makeTenant("billing-sched")
                let good = try await cp.billing.createConnection(.with {
                    $0.kind = .openai
                    $0.name = "good"
                    $0.credential = BillingServiceTests.key
                    $0.settings = ["base_url": base]
                }, metadata: a.ownerAuth).connection
                let bad = try await cp.billing.createConnection(.with {
                    $0.kind = .openai
                    $0.name = "bad"
                    $0.credential = BillingServiceTests.key
                    $0.settings = ["base_url": base + "/reject"]
                    $0.schedule = .hourly
                }, metadata: a.ownerAuth).connection
                // A server that does not allow custom endpoints refuses to call the one this
                // connection names, and says how to allow it.
                var locked = BillingSyncScheduler.Configuration()
                locked.http.maxAttempts = 1
                let refusing = BillingSyncScheduler(database: cp.database.database, keyVault: cp.plane.keyVault,
                                                    configuration: locked, logger: TestControlPlane.logger)
                #expect(await refusing.runOnce(now: Date()).failed == 2)
                let refusal = try await cp.billing.listConnections(.init(), metadata: a.ownerAuth).connections.first { $0.id == bad.id }
                #expect(refusal?.lastSyncError.contains("--billing-allow-custom-endpoints") == true, "\(String(describing: refusal))")
                #expect(fake.requestedPaths.isEmpty, "the refusing scheduler called the custom endpoint")
                try await cp.database.database.withTenantTransaction(TenantScope(tenantID: try #require(UUID(uuidString: a.id)))) { db in
                    _ = try await db.query("UPDATE billing_connections SET next_sync_at = now(), consecutive_failures = 0", logger: TestControlPlane.logger)
                }

                var configuration = BillingSyncScheduler.Configuration()
                configuration.allowCustomEndpoints = true
                configuration.http.maxAttempts = 1
                let scheduler = BillingSyncScheduler(database: cp.database.database, keyVault: cp.plane.keyVault,
                                                     configuration: configuration, logger: TestControlPlane.logger)
                let now = Date()
                let first = await scheduler.runOnce(now: now)
                #expect(first.synced == 1 && first.failed == 1 && first.failedTenants == 0)

                func connection(_ id: String) async throws -> Llmlab_V1_BillingConnection {
                    try #require(try await cp.billing.listConnections(.init(), metadata: a.ownerAuth).connections.first { $0.id == id })
                }
                let synced = try await connection(good.id)
                #expect(synced.lastSyncStatus == .succeeded)
                #expect(synced.nextSyncAt.date.timeIntervalSince(now) > 23 * 3600)
                let failed = try await connection(bad.id)
                #expect(failed.lastSyncStatus == .failed && !failed.lastSyncError.contains("TESTSECRET"))
                let backoff = failed.nextSyncAt.date.timeIntervalSince(now)
                #expect(backoff > 4 * 60 && backoff < 6 * 60)

                #expect(fake.requestedPaths.contains("/v1/organization/costs"))

                let early = await scheduler.runOnce(now: now.addingTimeInterval(60))
                #expect(early.synced == 0 && early.failed == 0)

                let later = now.addingTimeInterval(6 * 60)
                let second = await scheduler.runOnce(now: later)
                #expect(second.synced == 0 && second.failed == 1)
                let again = try await connection(bad.id)
                let secondBackoff = again.nextSyncAt.date.timeIntervalSince(Date())
                #expect(secondBackoff > 9 * 60 && secondBackoff < 11 * 60)

                // A disabled connection is not pulled, however overdue.
                _ = try await cp.billing.updateConnection(.with { $0.id = good.id; $0.disabled = true }, metadata: a.ownerAuth)
                let disabled = await scheduler.runOnce(now: now.addingTimeInterval(3 * 86_400))
                #expect(disabled.synced == 0 && disabled.failed == 1)
            }
        }
    }
}
