import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import SwiftProtobuf
import Testing

/// `llmlab.v1.UsageService.ListUsageEvents` over real TLS: filters, newest-first cursor
/// pagination, exact costs, project scoping and tenant isolation.
@Suite("Usage service")
struct UsageServiceTests {
    static func event(_ tenant: UUID, _ id: String, project: UUID, at: Date, model: String = "gpt-4o-mini", status: Int32 = 200,
                      cost: String? = "0.000435") -> UsageEventRecord {
        UsageEventRecord(tenantID: tenant, requestID: id, occurredAt: at, projectID: project, apiKeyID: UUID(), provider: "openai",
                         model: model, responseModel: model, inputTokens: 800, cachedInputTokens: 200, outputTokens: 400,
                         reasoningTokens: 100, costUSD: cost, unpricedReason: cost == nil ? "unknown_model: not in the catalog" : "",
                         latencyMs: 12, status: status, streamed: false)
    }

    @Test("list: newest first, paginated, filtered, exact costs; other tenants' and other projects' ids are notFound")
    func listUsage() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("usage-a")
            let b = try await cp.makeTenant("usage-b")
            let p1 = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: a.ownerAuth)
            let p2 = try await cp.projects.createProject(.with { $0.name = "two" }, metadata: a.ownerAuth)
            let bProject = try await cp.projects.createProject(.with { $0.name = "theirs" }, metadata: b.ownerAuth)
            let tenantID = try #require(UUID(uuidString: a.id))
            let project1 = try #require(UUID(uuidString: p1.id))
            let project2 = try #require(UUID(uuidString: p2.id))
            let base = Date(timeIntervalSince1970: 1_790_000_000)
            let events = [
                Self.event(tenantID, "req_1", project: project1, at: base),
                Self.event(tenantID, "req_2", project: project1, at: base.addingTimeInterval(60), status: 429),
                Self.event(tenantID, "req_3", project: project2, at: base.addingTimeInterval(120), model: "acme-x", cost: nil),
                Self.event(tenantID, "req_4", project: project1, at: base.addingTimeInterval(180)),
            ]
            let inserted = try await cp.database.database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                try await UsageEventRepository(connection, logger: TestControlPlane.logger).insert(events)
            }
            #expect(inserted == 4)

            let usage = Llmlab_V1_UsageService.Client(wrapping: cp.client)
            // A viewer may read; pages of 3 then 1, newest first.
            let (_, viewerToken) = try await cp.signedInUser(a, role: .viewer)
            let viewer = TestControlPlane.auth(viewerToken)
            let first = try await usage.listUsageEvents(.with { $0.pageSize = 3 }, metadata: viewer)
            #expect(first.events.map(\.requestID) == ["req_4", "req_3", "req_2"])
            #expect(!first.nextPageToken.isEmpty)
            let second = try await usage.listUsageEvents(.with { $0.pageSize = 3; $0.pageToken = first.nextPageToken }, metadata: viewer)
            #expect(second.events.map(\.requestID) == ["req_1"])
            #expect(second.nextPageToken.isEmpty)
            #expect(first.events[0].costUsd == "0.000435")
            #expect(first.events[0].priced)
            #expect(first.events[0].inputTokens == 800 && first.events[0].cachedInputTokens == 200)
            #expect(first.events[1].costUsd == "" && !first.events[1].priced && first.events[1].unpricedReason.hasPrefix("unknown_model"))

            // Filters.
            let byProject = try await usage.listUsageEvents(.with { $0.projectID = p2.id }, metadata: a.ownerAuth)
            #expect(byProject.events.map(\.requestID) == ["req_3"])
            let byModel = try await usage.listUsageEvents(.with { $0.model = "gpt-4o-mini" }, metadata: a.ownerAuth)
            #expect(byModel.events.map(\.requestID) == ["req_4", "req_2", "req_1"])
            let errors = try await usage.listUsageEvents(.with { $0.statusClass = "4xx" }, metadata: a.ownerAuth)
            #expect(errors.events.map(\.requestID) == ["req_2"])
            let window = try await usage.listUsageEvents(.with {
                $0.since = Google_Protobuf_Timestamp(date: base.addingTimeInterval(30))
                $0.until = Google_Protobuf_Timestamp(date: base.addingTimeInterval(150))
            }, metadata: a.ownerAuth)
            #expect(window.events.map(\.requestID) == ["req_3", "req_2"])
            #expect(await rpcCode { _ = try await usage.listUsageEvents(.with { $0.statusClass = "teapot" }, metadata: a.ownerAuth) } == .invalidArgument)

            // Another tenant's project: notFound, for them and for us.
            #expect(await rpcCode { _ = try await usage.listUsageEvents(.with { $0.projectID = bProject.id }, metadata: a.ownerAuth) } == .notFound)
            let theirs = try await usage.listUsageEvents(.init(), metadata: b.ownerAuth)
            #expect(theirs.events.isEmpty)

            // A key scoped to project one sees only project one; project two is notFound.
            let key = try await cp.auth.createApiKey(.with { $0.name = "dash"; $0.role = .viewer; $0.projectID = p1.id }, metadata: a.ownerAuth)
            let scoped = TestControlPlane.auth(key.secret)
            let mine = try await usage.listUsageEvents(.init(), metadata: scoped)
            #expect(mine.events.map(\.requestID) == ["req_4", "req_2", "req_1"])
            #expect(await rpcCode { _ = try await usage.listUsageEvents(.with { $0.projectID = p2.id }, metadata: scoped) } == .notFound)
        }
    }
}
